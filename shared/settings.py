"""Settings every service shares. Each service subclasses `ServiceSettings` with its own
env prefix (PLUME_INTAKE_, PLUME_COUNTER_, PLUME_DELIVERY_); the infrastructure addresses
are read from the same variables for all of them."""

from __future__ import annotations

import json

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else values[name]
            variables[variable.upper()] = value if isinstance(value, str) else json.dumps(value)
        return variables


class ServiceSettings(InfraSettings):
    """Host and port of a service's HTTP API; subclasses set the prefix and default port."""

    host: str = "127.0.0.1"
    port: int = 8000
