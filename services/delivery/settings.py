"""The delivery service's settings (env prefix PLUME_DELIVERY_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topics import ACTIONS, ACTIONS_DLQ, CASES, DOSSIERS

Identifier = Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PLUME_DELIVERY_", extra="ignore")

    service_name: ClassVar[str] = "delivery"
    port: int = 8003
    db_schema: str = Field(default="delivery", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    actions_topic: str = ACTIONS
    cases_topic: str = CASES
    dossiers_topic: str = DOSSIERS
    dlq_topic: str = ACTIONS_DLQ
    consumer_group: str = "plume-delivery"
    max_batch: int = Field(default=5_000, ge=1)
    # Records waiting longer than this for a commit (transient failures retried) turn
    # /readyz false and show in plume_delivery_stalled_seconds.
    stall_after_s: float = Field(default=60.0, gt=0)
    dossier_dir: Path = Path(".plume/dossiers")
    cut_size: int = Field(default=10_000, ge=1)
    cut_max_age_seconds: float = Field(default=86_400, gt=0)
    cut_check_seconds: float = Field(default=1.0, gt=0)
    render_pdf: bool = True
    send_check_seconds: float = Field(default=1.0, gt=0)
    send_lease_seconds: float = Field(default=120, gt=0)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_cap_seconds: float = Field(default=600, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "dossiers@plume.invalid"
    smtp_timeout_seconds: float = 30
    webhook_secret: SecretStr = SecretStr("change-me")
    webhook_timeout_seconds: float = 30
    font_dir: Path = Path("/usr/share/fonts/truetype")
