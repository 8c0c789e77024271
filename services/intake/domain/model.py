"""What a caller may send to `POST /v1/actions` and `/v1/actions/batch`: strict models
(unknown and server-only fields refused), every string bounded, text normalised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID

import pycountry
from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_local_part
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from services.intake.domain import text
from services.intake.domain.attribution import Language, TrackingText
from services.intake.domain.whole_action import REQUIRED_BY_TYPE, as_error, faults
from shared.contracts.actions import ActionType

MAX_ACTIONS_PER_BATCH = 1_000
MAX_TALLY = 100_000
# The oldest plausible `occurred_at`: older is a client's bug (a zeroed date, a year 0001
# that falls before year 1 in UTC, which PostgreSQL and Python's datetime refuse).
EARLIEST_OCCURRED_AT = datetime(2000, 1, 1, tzinfo=UTC)
# Fields of ActionEvent that only the server sets; named in the error so callers learn why.
SERVER_ONLY_FIELDS = frozenset(
    {
        "channel",
        "accepted_at",
        "supporter_key",
        "supporter_name",
        "supporter_email",
        "source",
        "request_id",
        "schema_version",
        "heartbeat",
        "country",
        "contact",
        "share_name_with_target",
        "sealed",
        "consent_text_id",
    }
)


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def country_code(code: str) -> str:
    code = code.strip().upper()
    if code not in _countries():
        raise text.invalid("invalid_country", "is not an ISO 3166-1 alpha-2 country code")
    return code


def email_address(address: str) -> str:
    address = text.check_text(address)
    local, at, domain = address.rpartition("@")
    if not at:
        raise text.invalid("invalid_email", "An email address must have an @-sign.")
    # email-validator checks both halves. The domain's check costs the most and a campaign
    # sees few distinct domains, so it is remembered per domain; the local part is checked
    # by the library's own local-part rule (quoted local parts are refused, as by default).
    try:
        return f"{validate_email_local_part(local)['local_part']}@{_domain(domain)}"
    except EmailNotValidError as exc:
        raise text.invalid("invalid_email", str(exc)) from None


@lru_cache(maxsize=16_384)
def _domain(domain: str) -> str:
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def message_text(value: str) -> str:
    value = text.check_text(value, allow_line_breaks=True)
    if not value:
        raise text.invalid("blank", "must not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(text.check_name)]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(email_address)]
Country = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(country_code)]
Message = Annotated[str, Field(min_length=1, max_length=5_000), AfterValidator(message_text)]
CaseId = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(text.check_text)]


@dataclass(frozen=True)
class Rules:
    """What validation checks against the world, passed as the validation context so that
    an unknown case or a future date is listed with every other failing field."""

    is_known_case: Callable[[str], bool]
    now: datetime
    clock_skew_s: int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Supporter(Strict):
    """`name` and `email` are required (whole_action.py), except in a tally (count > 1),
    which may give the country (and language) of its supporters alone."""

    name: Name | None = None
    email: Email | None = None
    country: Country | None = None
    language: Language | None = Field(default=None, description="BCP 47, e.g. fr-SN")


class Consent(Strict):
    share_name_with_target: bool = False
    contact: bool = False
    text_id: CaseId | None = Field(
        default=None, description="the id of the consent text shown (the campaign file's)"
    )


class TrackingIn(Strict):
    """Where the supporter came from, as the sending page knows it; each part optional."""

    utm_source: TrackingText | None = None
    utm_medium: TrackingText | None = None
    utm_campaign: TrackingText | None = None
    referrer: TrackingText | None = None


# The contract's example, shown in /docs and sent by schemathesis among generated bodies.
EXAMPLE: dict[str, Any] = {
    "case_id": "sonia-dahmani",
    "type": "signature",
    "supporter": {"name": "Awa Diallo", "email": "awa@example.org", "country": "SN"},
    "consent": {"share_name_with_target": True, "contact": False},
    "occurred_at": "2025-12-10T09:00:00Z",
}


def _per_type_rules(schema: dict[str, Any]) -> None:
    # "if type is X then F is present and not null", one rule per entry (JSON Schema 2020-12,
    # which OpenAPI 3.1 uses), so generated clients and schemathesis know them too.
    schema["examples"] = [EXAMPLE]
    schema["allOf"] = [
        {
            "if": {"properties": {"type": {"const": kind.value}}, "required": ["type"]},
            "then": {"required": [field], "properties": {field: {"not": {"type": "null"}}}},
        }
        for kind, field in REQUIRED_BY_TYPE.items()
    ]


class ActionIn(Strict):
    """One action as a caller describes it."""

    model_config = ConfigDict(json_schema_extra=_per_type_rules)

    action_id: UUID | None = Field(
        default=None, description="assigned by the server when missing; resending it is safe"
    )
    case_id: CaseId
    type: ActionType
    supporter: Supporter | None = Field(default=None, description="required for a signature")
    consent: Consent = Consent()
    message: Message | None = Field(default=None, description="required for a solidarity_message")
    count: Annotated[int, Field(ge=1, le=MAX_TALLY)] | None = Field(
        default=None,
        description="how many actions this one stands for: only 1 (or omitted) unless the "
        "key has the actions:tally scope, then 1 to 100,000 (a tally of offline actions); "
        "a count above 1 without that scope is a 403",
    )
    occurred_at: AwareDatetime | None = None
    tracking: TrackingIn | None = None

    @field_validator("case_id")
    @classmethod
    def _known_case(cls, case_id: str, info: ValidationInfo) -> str:
        rules = info.context
        if isinstance(rules, Rules) and not rules.is_known_case(case_id):
            raise text.invalid("unknown_case", "is not a case of the campaign")
        return case_id

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, occurred_at: datetime | None, info: ValidationInfo) -> datetime | None:
        rules = info.context
        fault = None if occurred_at is None else implausible(occurred_at, rules)
        if fault is not None:
            raise fault
        return occurred_at

    @model_validator(mode="after")
    def _whole_action(self) -> ActionIn:
        """The rules across fields (whole_action.py), every fault at its own place."""
        found = faults(self)
        if found:
            raise as_error(found)
        return self


class ErasureIn(Strict):
    """`POST /v1/erasures`: whose personal data to erase."""

    email: Email


def _batch_example(schema: dict[str, Any]) -> None:
    schema["examples"] = [{"actions": [EXAMPLE]}]


class BatchIn(Strict):
    model_config = ConfigDict(json_schema_extra=_batch_example)

    actions: list[ActionIn] = Field(min_length=1, max_length=MAX_ACTIONS_PER_BATCH)


def implausible(occurred_at: datetime, rules: object) -> PydanticCustomError | None:
    """Why `occurred_at` cannot be when an action happened, or None (the clock's rule
    only with `rules`)."""
    if occurred_at < EARLIEST_OCCURRED_AT:
        earliest = f"{EARLIEST_OCCURRED_AT:%Y-%m-%dT%H:%M:%SZ}"
        return text.invalid("too_early", f"must not be before {earliest}")
    if isinstance(rules, Rules) and occurred_in_future(occurred_at, rules.now, rules.clock_skew_s):
        return text.invalid("in_future", "must not be in the future")
    return None


def occurred_in_future(occurred_at: datetime, now: datetime, skew_s: int) -> bool:
    return (occurred_at - now).total_seconds() > skew_s
