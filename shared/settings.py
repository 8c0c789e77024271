"""Settings every service shares. Each service subclasses `ServiceSettings` with its own
env prefix (PLUME_INTAKE_, PLUME_COUNTER_, PLUME_DELIVERY_); the infrastructure addresses
are read from the same variables for all of them."""

from __future__ import annotations

from pydantic import AliasChoices, Field
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


class ServiceSettings(InfraSettings):
    """Host and port of a service's HTTP API; subclasses set the prefix and default port."""

    host: str = "127.0.0.1"
    port: int = 8000
