"""What delivery reads of an action on `plume.actions.v1`, and how it decodes it.

`ActionView` (pydantic) is the rule: a record it refuses is set aside with its error.
`ActionRecord` holds the same fields; msgspec decodes most records straight into it at
a fraction of pydantic's cost (pydantic was a fifth of delivery's time per action).
msgspec is stricter than pydantic's lax mode, so a record it refuses goes to pydantic,
which accepts it or refuses it with today's error: the outcome of every record is
pydantic's. Where msgspec would be *laxer* or decode another value, the record skips
it (see `fast_path_may_differ`); tests/unit/delivery/test_action_decoding.py holds the
two decoders to the same outcome."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from pydantic import BaseModel, ConfigDict

from shared.contracts.actions import NO_COUNTRY, ActionType, Channel


class ActionView(BaseModel):
    """The fields of `ActionEvent` (schema_version 1) that delivery reads. Validating only
    these halves the decoding time of a million actions; intake validated the rest."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    action_id: UUID
    case_id: str
    type: ActionType
    count: int
    channel: Channel
    country: str = NO_COUNTRY
    supporter_key: str | None = None
    supporter_name: str | None = None
    share_name_with_target: bool = False
    message: str | None = None
    sealed: str | None = None  # name and message sealed (opened by SealedFields)
    consent_text_id: str | None = None
    occurred_at: datetime
    source: str
    heartbeat: bool = False
    request_id: str | None = None
    accepted_at: datetime | None = None


class ActionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """ActionView's fields, types and defaults (a unit test keeps them equal)."""

    schema_version: Literal[1] = 1
    action_id: UUID
    case_id: str
    type: ActionType
    count: int
    channel: Channel
    country: str = NO_COUNTRY
    supporter_key: str | None = None
    supporter_name: str | None = None
    share_name_with_target: bool = False
    message: str | None = None
    sealed: str | None = None
    consent_text_id: str | None = None
    occurred_at: datetime
    source: str
    heartbeat: bool = False
    request_id: str | None = None
    accepted_at: datetime | None = None


_FAST = msgspec.json.Decoder(ActionRecord)
# msgspec rounds a time's 7th fractional digit where pydantic drops it (1 µs apart). The
# pattern starts with a literal, which re finds fast; one starting with \d tried every
# byte and cost as much as msgspec's whole decoding.
_LONG_FRACTION = re.compile(rb"\.\d{7}")
# pydantic refuses JSON nested 255 deep, msgspec only past about a thousand.
MAX_OPENINGS = 64


def fast_path_may_differ(raw: bytes) -> bool:
    """True when msgspec might accept what pydantic refuses, or read another value: JSON
    nested deeper than any action (counted over the whole text: a bracket inside a string
    only sends the record the slow way), or a time with more than microseconds."""
    return (
        raw.count(b"[") + raw.count(b"{") > MAX_OPENINGS or _LONG_FRACTION.search(raw) is not None
    )


def decode_action(raw: bytes) -> ActionRecord:
    """The action in `raw`, or pydantic's ValidationError (a ValueError)."""
    try:
        # str first: msgspec does not check the UTF-8 of the fields it skips, pydantic does
        text = raw.decode()
    except UnicodeDecodeError:
        return _by_pydantic(raw)
    if fast_path_may_differ(raw):
        return _by_pydantic(raw)
    try:
        return _FAST.decode(text)
    except msgspec.MsgspecError:  # stricter than pydantic: let pydantic decide
        return _by_pydantic(raw)


def _by_pydantic(raw: bytes) -> ActionRecord:
    view = ActionView.model_validate_json(raw)
    return ActionRecord(**view.model_dump())
