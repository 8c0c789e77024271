"""How the counter decodes an action on `plume.actions.v1`, as delivery does
(services/delivery/entrypoints/action_view.py): `ActionEvent` (pydantic) is the rule, and
a record it refuses is set aside with its error. `CountedAction` holds its fields, defaults
and constraints, unknown fields refused as it refuses them (its tracking too:
shared.contracts.action_record.TrackingRecord); msgspec decodes most records
straight into it, for about a third of pydantic's CPU (pydantic took a sixth of the
counter's time per action). A record msgspec refuses goes to pydantic, which accepts or
refuses it with today's error; a record where msgspec would be laxer or read another value
skips it (`shared.fast_json`). tests/unit/counter/test_action_decoding.py holds the two
decoders to the same outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from shared.contracts.action_record import TrackingRecord, tracking_record
from shared.contracts.actions import NO_COUNTRY, ActionEvent, ActionType, Channel
from shared.fast_json import decode_or_none, may_differ


class CountedAction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`ActionEvent`'s fields, types, defaults and constraints (a unit test keeps them
    equal)."""

    schema_version: Literal[1] = 1
    action_id: UUID
    case_id: str
    type: ActionType
    count: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    channel: Channel
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)] = NO_COUNTRY
    supporter_key: str | None = None
    supporter_name: str | None = None
    supporter_email: str | None = None
    share_name_with_target: bool = False
    contact: bool = False
    message: str | None = None
    language: str | None = None
    tracking: TrackingRecord | None = None  # with Tracking's constraints
    sealed: str | None = None
    consent_text_id: str | None = None
    occurred_at: datetime
    accepted_at: datetime
    source: str
    request_id: str | None = None
    heartbeat: bool = False
    network_hash: str | None = None
    email_domain_hash: str | None = None
    disposable_email: bool = False


_FAST = msgspec.json.Decoder(CountedAction)


def decode_event(raw: bytes) -> CountedAction:
    """The action in `raw`, or pydantic's ValidationError (a ValueError). Every field is
    known and shallow, so JSON nested too deep for pydantic is an unknown field or a wrong
    type, which msgspec refuses too: only the times need the text checked first."""
    record = None if may_differ(raw) else decode_or_none(_FAST, raw)
    return _by_pydantic(raw) if record is None else record


def _by_pydantic(raw: bytes) -> CountedAction:
    event = ActionEvent.model_validate_json(raw)
    return CountedAction(**{**dict(event), "tracking": tracking_record(event.tracking)})
