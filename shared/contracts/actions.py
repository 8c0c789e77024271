"""An accepted action, as intake writes it to `plume.actions.v1`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

NO_COUNTRY = "ZZ"


class ActionType(StrEnum):
    SIGNATURE = "signature"
    LETTER = "letter"
    EMAIL = "email"
    TWEET = "tweet"
    POSTCARD = "postcard"
    PHOTO = "photo"
    SOLIDARITY_MESSAGE = "solidarity_message"


class Channel(StrEnum):
    """Where an action came from: a browser, a partner system, or an offline event tally."""

    WEB = "web"
    PARTNER = "partner"
    EVENT = "event"


TrackingText = Field(default=None, max_length=200)


class Tracking(BaseModel):
    """Where a supporter came from, as the sending page knows it (contract v2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    utm_source: str | None = TrackingText
    utm_medium: str | None = TrackingText
    utm_campaign: str | None = TrackingText
    referrer: str | None = TrackingText


class ActionEvent(BaseModel):
    """One accepted action. Personal data travels only where the supporter agreed to it:
    `supporter_name` only with consent to share it with the target, `supporter_email` only
    with consent to be contacted, and both (with the message) sealed with the supporter's
    data key in `sealed` (shared/sealing.py). `supporter_key` is that key's random id, the
    identity used to count a signature once per supporter and case (a keyed hash of the
    email in events written before sealing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    action_id: UUID
    case_id: str
    type: ActionType
    count: int = Field(ge=1, le=100_000)
    channel: Channel
    country: str = Field(default=NO_COUNTRY, min_length=2, max_length=2)
    supporter_key: str | None = None
    supporter_name: str | None = None
    supporter_email: str | None = None
    share_name_with_target: bool = False
    contact: bool = False
    message: str | None = None
    language: str | None = Field(default=None, description="the supporter's, BCP 47")
    tracking: Tracking | None = None
    # The supporter's name, email and message sealed with their data key (shared/sealing.py);
    # these clear fields are then None. Events written before sealing carry them in clear.
    sealed: str | None = None
    consent_text_id: str | None = None  # the consent text the supporter saw (campaign file)
    occurred_at: datetime
    accepted_at: datetime
    source: str = Field(description="API key name, or 'anonymous'")
    request_id: str | None = None
    heartbeat: bool = False
    # Abuse detection (issue 13): keyed hashes of the client's network (/24, /48) and of
    # the email's domain, never the address or the domain itself; absent in older events.
    network_hash: str | None = None
    email_domain_hash: str | None = None
    disposable_email: bool = False

    def kafka_key(self) -> bytes:
        """Spread load: one supporter's actions share a partition, a case's do not."""
        return (self.supporter_key or str(self.action_id)).encode()
