"""An accepted action as intake builds and writes it: `ActionEvent`'s fields in a msgspec
Struct. `ActionEvent` (pydantic) stays the contract, what every reader validates with;
building and encoding one cost intake ~13 µs per action (validating the dict, then
`model_dump_json`), this ~3 µs. Its JSON is `encode(ActionEvent)`'s, byte for byte: the
fields in the same order, and only the fields that are None left out (`omit_defaults`,
with None the only default). tests/unit/shared/test_action_record.py holds the two to
the same fields and the same bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from shared.contracts.actions import ActionEvent, ActionType, Channel, Tracking

TrackingText = Annotated[str, msgspec.Meta(max_length=200)]


class TrackingRecord(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """`Tracking`'s fields, with its constraints and its refusal of unknown fields: they
    bind what msgspec decodes (the counter's CountedAction), never what intake builds."""

    utm_source: TrackingText | None = None
    utm_medium: TrackingText | None = None
    utm_campaign: TrackingText | None = None
    referrer: TrackingText | None = None


class ActionRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """ActionEvent's fields in its order. Those ActionEvent defaults to a value other than
    None have no default here (they are always written, as pydantic writes them)."""

    schema_version: Literal[1]
    action_id: UUID
    case_id: str
    type: ActionType
    count: int
    channel: Channel
    country: str
    supporter_key: str | None = None
    supporter_name: str | None = None
    supporter_email: str | None = None
    share_name_with_target: bool
    contact: bool
    message: str | None = None
    language: str | None = None
    tracking: TrackingRecord | None = None
    sealed: str | None = None
    consent_text_id: str | None = None
    occurred_at: datetime
    accepted_at: datetime
    source: str
    request_id: str | None = None
    heartbeat: bool
    network_hash: str | None = None
    email_domain_hash: str | None = None
    disposable_email: bool

    def kafka_key(self) -> bytes:
        """ActionEvent.kafka_key: one supporter's actions share a partition."""
        return (self.supporter_key or str(self.action_id)).encode()


_ENCODER = msgspec.json.Encoder()


def encode_record(record: ActionRecord) -> bytes:
    """The record's value on the topic: what `shared.kafka.encode` writes of its event."""
    return _ENCODER.encode(record)


def kafka_record(record: ActionRecord) -> tuple[bytes, bytes]:
    """The record's Kafka key and value, as written to the topic."""
    return record.kafka_key(), encode_record(record)


def record_of(event: ActionEvent) -> ActionRecord:
    """The record of an event read or made elsewhere (a held signature, a test's)."""
    return ActionRecord(**{**dict(event), "tracking": tracking_record(event.tracking)})


def tracking_record(tracking: Tracking | None) -> TrackingRecord | None:
    return None if tracking is None else TrackingRecord(**dict(tracking))


def event_of(record: ActionRecord) -> ActionEvent:
    """The contract's model of a record, validated (for the rare paths that store it)."""
    return ActionEvent.model_validate_json(encode_record(record))
