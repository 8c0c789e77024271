"""The intake service's configuration (env prefix PLUME_INTAKE_), built in the entrypoint
and passed down; nothing below reads the environment itself."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topics import ACTIONS, CASES


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLUME_INTAKE_", extra="ignore", populate_by_name=True
    )

    service_name: ClassVar[str] = "intake"
    port: int = 8001
    db_schema: str = Field(default="intake", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    actions_topic: str = ACTIONS
    cases_topic: str = CASES
    # Shared with nothing else: the key of the supporter hash. Rotating it changes every
    # supporter key, so signatures from before and after would no longer deduplicate.
    supporter_key_secret: SecretStr = Field(
        validation_alias=AliasChoices("PLUME_SUPPORTER_KEY_SECRET", "supporter_key_secret"),
        min_length=16,
    )
    # Key of the abuse-detection hashes of a client's network and an email's domain
    # (domain/origins.py). Unset: derived from the supporter-key secret. Unlike that one it
    # may be rotated at any time: a hash only has to match within the counter's windows.
    network_hash_key: SecretStr | None = Field(default=None, min_length=16)

    @field_validator("network_hash_key", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value  # an empty variable is no key (environment())

    cors_origins: list[str] = Field(default_factory=list)
    # Where browsers reach the counter's public reads: the widget reads totals there.
    counter_url: str = "http://127.0.0.1:8002"
    anonymous_rate_limit: int = Field(
        default=120, ge=0, description="actions per minute per client address; 0 = unlimited"
    )
    # Where the rate limits are counted for all intake workers and instances together
    # (Redis); empty: each process counts alone, so N processes allow N times a limit.
    redis_url: str = ""
    # The limits' window: a limit is "actions per rate_window_s" (a minute; tests shorten
    # it so as not to wait a minute, the arithmetic being the same).
    rate_window_s: float = Field(default=60.0, gt=0)
    # How long a rate-limit check may wait for Redis; past it the request is let through
    # on this process's own limit (fail open, README) and Redis is left alone a second.
    redis_timeout_s: float = Field(default=0.25, gt=0)
    # Unknown API keys per minute from one client address; past them, keyed requests from
    # that address get 429 without a database query until the bucket refills (0 = off).
    key_guess_limit: int = Field(
        default=10, ge=0, description="unknown API keys per minute per client address"
    )
    # Long enough for a partition's leadership to move (a broker restarting, on a loaded
    # machine: up to about 5 s measured); a broker gone for good answers 503 after it.
    produce_timeout_s: float = Field(default=8.0, gt=0)
    retry_after_s: int = Field(default=5, ge=1)
    clock_skew_s: int = Field(default=300, ge=0)
    # Requests gather in the publisher while the previous write is in flight, so waiting
    # longer in the producer adds latency without making batches much bigger.
    linger_ms: int = Field(default=0, ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    # Supporters' data keys held in memory (services/intake/adapters/data_keys.py).
    data_key_cache_size: int = Field(default=100_000, ge=0)
    # Worker processes; the rate limits hold across them through Redis (redis_url).
    workers: int = Field(default=1, ge=1)
    # A synthetic action on a reserved case, so freshness and "the pipeline is alive" are
    # measured end to end all the time; counter and delivery never count it (0 = off).
    heartbeat_interval_s: float = Field(default=5.0, ge=0)
    # Batch bodies read and decoded at once, in bytes as announced (4 MiB when not), in all
    # and per key; a batch waits in line up to batch_wait_s for room, then is answered 429
    # (its key's share is full) or 503 (the whole is). Bounds intake's memory under bursts
    # of large batches (services/intake/entrypoints/budget.py).
    batch_budget_bytes: int = Field(default=32 * 2**20, ge=4 * 2**20)
    batch_budget_per_key_bytes: int = Field(default=16 * 2**20, ge=4 * 2**20)
    batch_wait_s: float = Field(default=20.0, gt=0)
    # Confirmed signatures (campaigns with confirm_signatures): the link in the email
    # points at public_url (where supporters reach intake); unconfirmed signatures are
    # erased after confirm_within_days. SMTP as delivery's.
    public_url: str = "http://127.0.0.1:8001"
    confirm_within_days: float = Field(default=7.0, gt=0)
    confirm_check_s: float = Field(default=1.0, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "confirm@plume.invalid"
    smtp_timeout_s: float = Field(default=30.0, gt=0)
