"""The delivery service's settings (env prefix PLUME_DELIVERY_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topics import ACTIONS, ACTIONS_DLQ, CASES, DOSSIERS, TopicSpec


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PLUME_DELIVERY_", extra="ignore")

    service_name: ClassVar[str] = "delivery"
    renamed: ClassVar[dict[str, str]] = {
        "consumer_group": "group_id",
        "cut_max_age_seconds": "cut_max_age_s",
        "cut_check_seconds": "cut_check_s",
        "send_check_seconds": "send_check_s",
        "send_lease_seconds": "send_lease_s",
        "retry_base_seconds": "retry_base_s",
        "retry_cap_seconds": "retry_cap_s",
        "smtp_timeout_seconds": "smtp_timeout_s",
        "webhook_timeout_seconds": "webhook_timeout_s",
    }
    port: int = 8003
    db_schema: str = Field(default="delivery", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_pool_size: int = Field(default=10, ge=1)
    actions_topic: str = ACTIONS
    cases_topic: str = CASES
    dossiers_topic: str = DOSSIERS
    dlq_topic: str = ACTIONS_DLQ
    group_id: str = "plume-delivery"
    max_batch: int = Field(default=5_000, ge=1)
    # Transactions storing records at once, each lane with some of the partitions
    # (shared.positioned_consumer): PostgreSQL runs one lane's statements while the
    # consumer prepares another's. Each takes a connection of the pool. Measured beside a
    # million signatures on 2 cores, alternated: 4 lanes 23.3-27.1 s, 2 lanes 27.1-32.3 s;
    # since lanes stopped waiting for each other, 4 lanes 12.5-12.7 s, 8 lanes 14.0-14.3 s
    # (a faster machine).
    consumer_lanes: int = Field(default=4, ge=1, le=8)
    # Records waiting longer than this for a commit (transient failures retried) turn
    # /readyz false and show in plume_delivery_stalled_seconds.
    stall_after_s: float = Field(default=60.0, gt=0)
    dossier_dir: Path = Path(".plume/dossiers")
    cut_size: int = Field(default=10_000, ge=1)
    cut_max_age_s: float = Field(default=86_400, gt=0)
    cut_check_s: float = Field(default=1.0, gt=0)
    render_pdf: bool = True
    send_check_s: float = Field(default=1.0, gt=0)
    send_lease_s: float = Field(default=120, gt=0)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_cap_s: float = Field(default=600, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "dossiers@plume.invalid"
    smtp_timeout_s: float = 30
    # No usable default: with a webhook target in the catalogue and no secret, the
    # service refuses to start (domain.addressees.require_webhook_secret).
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = 30
    # Longest wait at start for the catalogue (to check the webhook targets' secret).
    catalogue_wait_s: float = Field(default=30.0, gt=0)
    font_dir: Path = Path("/usr/share/fonts/truetype")
    # Dossier files (names, messages) are deleted this long after acknowledgement; the
    # manifest and counts stay. The job runs at start and then every retention_check_s.
    file_retention_days: float = Field(default=30, ge=0)
    retention_check_s: float = Field(default=86_400, gt=0)
    # A supporter's data key unused this long (no action sealed with it), with no consent
    # to contact and no name or message of theirs left in delivery's rows, is destroyed (by
    # the job of retention_check_s). At least the actions topic's retention: a key lasts as
    # long as the topic keeps what it sealed, so a lagging consumer can still open it; and
    # far above shared.data_keys.RECORD_USE_EVERY_S, so a key in use is never due.
    data_key_retention_days: float = Field(default=90, ge=1)
    console_session_s: float = Field(default=8 * 3600, gt=0)  # the console's sign-in lasts

    @model_validator(mode="after")
    def _keys_last_as_long_as_the_topic(self) -> DeliverySettings:
        if self.data_key_retention_days < self.actions_retention_days:
            raise ValueError(
                "PLUME_DELIVERY_DATA_KEY_RETENTION_DAYS must be at least "
                "PLUME_ACTIONS_RETENTION_DAYS: a key must last as long as what it sealed in Kafka"
            )
        return self

    def own_topics(self, actions_partitions: int) -> tuple[TopicSpec, ...]:
        """The topics these settings name, laid out as the contract's, for a delivery run
        in isolation (tests, benchmarks) on topics of its own."""
        return (
            TopicSpec(self.actions_topic, actions_partitions),
            TopicSpec(self.cases_topic, 1, compacted=True),
            TopicSpec(self.dossiers_topic, 1),
            TopicSpec(self.dlq_topic, 1),
        )

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`PLUME_DELIVERY_WEBHOOK_SECRET=` (empty) means no secret, as unset does."""
        return None if value == "" else value
