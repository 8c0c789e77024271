"""The well-formed action, read by msgspec: model.py's ActionIn is the rule, and what this
module accepts it accepts with the same values. Parsing a batch with pydantic (its model,
then our validators) was a quarter of intake's CPU per action; msgspec reads the same
JSON in a fraction of that, and the same validators (text.py, model.py) then run on its
fields in the same order. Anything msgspec refuses, any validator refuses, or where
msgspec could read another value (shared.fast_json) gives None: the route then parses
with pydantic, whose outcome (the action, or its 422 with every error) is the contract's.
tests/unit/intake/test_fast_model.py holds the two to the same outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from services.intake.domain import model, text
from services.intake.domain.attribution import MAX_LANGUAGE_TAG, MAX_TRACKING, language_tag
from services.intake.domain.model import MAX_ACTIONS_PER_BATCH, MAX_TALLY, ActionIn, Rules
from services.intake.domain.whole_action import is_whole
from shared.contracts.actions import ActionType
from shared.fast_json import decode_or_none, may_differ

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Email = Annotated[str, Meta(min_length=3, max_length=254)]
Country = Annotated[str, Meta(min_length=2, max_length=2)]
Language = Annotated[str, Meta(min_length=2, max_length=MAX_LANGUAGE_TAG)]
Message = Annotated[str, Meta(min_length=1, max_length=5_000)]
CaseId = Annotated[str, Meta(min_length=1, max_length=80)]
Tracked = Annotated[str, Meta(max_length=MAX_TRACKING)]


class FastSupporter(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: Name | None = None
    email: Email | None = None
    country: Country | None = None
    language: Language | None = None


class FastConsent(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    share_name_with_target: bool = False
    contact: bool = False
    text_id: CaseId | None = None


class FastTracking(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    utm_source: Tracked | None = None
    utm_medium: Tracked | None = None
    utm_campaign: Tracked | None = None
    referrer: Tracked | None = None


class FastAction(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """ActionIn's fields, bounds and defaults; once `valid`, its values as ActionIn's."""

    action_id: UUID | None = None
    case_id: CaseId
    type: ActionType
    supporter: FastSupporter | None = None
    consent: FastConsent = msgspec.field(default_factory=FastConsent)
    message: Message | None = None
    count: Annotated[int, Meta(ge=1, le=MAX_TALLY)] | None = None
    occurred_at: Annotated[datetime, Meta(tz=True)] | None = None
    tracking: FastTracking | None = None


class FastBatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    actions: Annotated[list[FastAction], Meta(min_length=1, max_length=MAX_ACTIONS_PER_BATCH)]


_ACTION = msgspec.json.Decoder(FastAction)
_BATCH = msgspec.json.Decoder(FastBatch)


def parse_action(body: bytes, rules: Rules) -> FastAction | None:
    """The action in `body` as ActionIn would have it, or None: ask pydantic."""
    action = None if may_differ(body) else decode_or_none(_ACTION, body)
    return None if action is None else valid(action, rules)


def parse_batch(body: bytes, rules: Rules) -> list[FastAction] | None:
    """Every action of the batch as ActionIn would have it, or None (one item failing
    is enough): ask pydantic, which tells each item's fate."""
    batch = None if may_differ(body) else decode_or_none(_BATCH, body)
    if batch is None:
        return None
    actions = []
    for raw in batch.actions:
        action = valid(raw, rules)
        if action is None:
            return None
        actions.append(action)
    return actions


def valid(action: FastAction, rules: Rules) -> FastAction | None:
    """`action` with ActionIn's validators applied (each field's, then the whole action's),
    or None where one refuses it."""
    try:
        case_id = text.check_text(action.case_id)
        if not rules.is_known_case(case_id):
            return None
        occurred_at = action.occurred_at
        if occurred_at is not None and model.implausible(occurred_at, rules):
            return None
        checked = msgspec.structs.replace(
            action,
            case_id=case_id,
            supporter=_supporter(action.supporter),
            consent=_consent(action.consent),
            message=None if action.message is None else model.message_text(action.message),
            tracking=_tracking(action.tracking),
        )
    except ValueError:  # a validator's refusal (PydanticCustomError is one)
        return None
    return checked if is_whole(checked) else None


def _supporter(supporter: FastSupporter | None) -> FastSupporter | None:
    if supporter is None:
        return None
    name, email, country, language = (
        supporter.name,
        supporter.email,
        supporter.country,
        supporter.language,
    )
    return FastSupporter(
        name=None if name is None else text.check_name(name),
        email=None if email is None else model.email_address(email),
        country=None if country is None else model.country_code(country),
        language=None if language is None else language_tag(language),
    )


def _consent(consent: FastConsent) -> FastConsent:
    if consent.text_id is None:
        return consent
    return msgspec.structs.replace(consent, text_id=text.check_text(consent.text_id))


def _tracking(tracking: FastTracking | None) -> FastTracking | None:
    if tracking is None:
        return None
    return FastTracking(
        **{
            field: None if value is None else text.check_text(value)
            for field, value in msgspec.structs.asdict(tracking).items()
        }
    )


# A validated action, read by pydantic or by msgspec: what the decision takes.
Action = ActionIn | FastAction
