"""Settings every service shares. Each service subclasses `ServiceSettings` with its own
env prefix (PLUME_INTAKE_, PLUME_COUNTER_, PLUME_DELIVERY_); the infrastructure addresses
are read from the same variables for all of them."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from typing import Any, ClassVar

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import sealing
from shared.guarded_http import HttpLimits

log = logging.getLogger(__name__)

DEFAULT_KAFKA = "127.0.0.1:9092"
DEFAULT_DATABASE = "postgresql://plume:plume@127.0.0.1:5432/plume"


class InfraSettings(BaseSettings):
    """Where Kafka and PostgreSQL are; read by services and by the `plume` command."""

    model_config = SettingsConfigDict(env_prefix="PLUME_", extra="ignore")

    kafka_bootstrap: str = Field(
        default=DEFAULT_KAFKA, validation_alias=AliasChoices("PLUME_KAFKA_BOOTSTRAP")
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE, validation_alias=AliasChoices("PLUME_DATABASE_URL")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("PLUME_LOG_LEVEL"))
    # How long plume.actions.v1 keeps actions (Kafka deletes older segments); applied by
    # `plume topics ensure` (run by `make up`). Counts live on in PostgreSQL.
    actions_retention_days: float = Field(
        default=7, gt=0, validation_alias=AliasChoices("PLUME_ACTIONS_RETENTION_DAYS")
    )
    # Settings renamed in this release, old name → new: the old variable (or keyword) is
    # still read, with a warning, until the next release removes it.
    renamed: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _read_old_names(cls, data: Any) -> Any:
        if not cls.renamed or not isinstance(data, dict):
            return data
        prefix = str(cls.model_config.get("env_prefix", ""))
        for old, new in cls.renamed.items():
            variable = f"{prefix}{old}".upper()
            value = data.pop(old, None)
            if value is None:
                value = os.environ.get(variable)
            if value is None:
                continue
            log.warning(
                "setting renamed: use the new name",
                extra={"old": variable, "new": f"{prefix}{new}".upper()},
            )
            data.setdefault(new, value)
        return data

    def environment(self) -> dict[str, str]:
        """The variables from which a child process (`plume serve …`) reads these same
        settings: a field's alias when it has one, else the prefix and its name."""
        prefix = self.model_config.get("env_prefix", "")
        values = self.model_dump(mode="json")  # paths, enums, … as their text
        variables: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            variable = (
                str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"{prefix}{name}"
            )
            secret = getattr(self, name)
            if secret is None:
                variables[variable.upper()] = ""  # unset (not the text "null")
                continue
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else values[name]
            variables[variable.upper()] = value if isinstance(value, str) else json.dumps(value)
        return variables


class ServiceSettings(InfraSettings):
    """Host and port of a service's HTTP API, and what one client may hold of it;
    subclasses set the prefix, the service's name and its default port."""

    service_name: ClassVar[str] = "plume"
    host: str = "127.0.0.1"
    port: int = 8000
    # Requests handled at once; more are answered 503 at once (0 = no cap). Requests
    # without an API key may take at most (1 - keyed_share) of them, so partners still get
    # through while anonymous callers fill the rest.
    max_in_flight: int = Field(default=1_000, ge=0)
    keyed_share: float = Field(default=0.2, ge=0, lt=1)
    # Per connection (shared.guarded_http): headers within a time and size, a body that
    # keeps coming at a minimum rate.
    http_header_timeout_s: float = Field(default=5.0, gt=0)
    http_body_timeout_s: float = Field(default=5.0, gt=0)
    http_body_min_rate: int = Field(default=4_096, ge=0, description="bytes per second")
    http_max_header_bytes: int = Field(default=32 * 1024, ge=1_024)
    http_max_headers: int = Field(default=100, ge=10)
    # Peers whose X-Forwarded-For names the client (comma-separated addresses or networks,
    # "*" for any): a load balancer in front. Empty: the peer itself is the client, so no
    # caller can pass for other addresses and slip past the per-address limits.
    trusted_proxies: str = ""
    # Seconds an idle keep-alive connection stays open. Longer than the idle timeouts of
    # clients and proxies (httpx 5 s, load balancers 60 s), so the client always closes
    # first: at uvicorn's 5 s, equal to httpx's, a request sent on a connection the server
    # was closing at that instant failed with a ReadError (seen once in a rolling restart).
    keep_alive_s: int = Field(default=75, ge=1)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry != "*":
                ipaddress.ip_network(entry)  # ValueError: not an address nor a network
        return ",".join(entries)

    # Wraps the supporters' data keys (shared/sealing.py): base64 of 32 random bytes, the
    # same for intake and delivery. Required by both to run; lost, every sealed name is.
    supporter_master_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PLUME_SUPPORTER_MASTER_KEY", "supporter_master_key"),
    )

    def master_key(self) -> bytes:
        if self.supporter_master_key is None:
            raise RuntimeError(
                "PLUME_SUPPORTER_MASTER_KEY is not set: base64 of 32 random bytes, kept safe"
            )
        return sealing.master_key(self.supporter_master_key.get_secret_value())

    def http_limits(self) -> HttpLimits:
        """The `http_…` settings, named as HttpLimits names them."""
        limits = {
            name.removeprefix("http_"): value
            for name, value in self.model_dump().items()
            if name.startswith("http_")
        }
        return HttpLimits(service=self.service_name, **limits)
