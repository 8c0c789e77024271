"""Validation of what callers send: every failing field listed, with a dotted path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from services.intake.domain.errors import FieldError, field_errors, is_invalid_json
from services.intake.domain.model import ActionIn, BatchIn
from services.intake.domain.whole_action import faults
from tests.unit.intake.builders import NOW, rules, signature

pytestmark = pytest.mark.unit


def errors_of(body: dict[str, Any] | bytes) -> list[FieldError]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(raw, context=rules())
    return field_errors(caught.value.errors())


def fields_of(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in errors_of(body)}


def test_the_contract_example_is_valid_and_normalised() -> None:
    body = signature(
        supporter={"name": " Jose\u0301 ", "email": "awa@EXAMPLE.org", "country": "sn"}
    )
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    assert action.supporter is not None
    assert action.supporter.name == "Jos\u00e9"
    assert action.supporter.email == "awa@example.org"
    assert action.supporter.country == "SN"
    assert action.consent.share_name_with_target and not action.consent.contact


def test_every_failing_field_is_listed() -> None:
    body = signature(
        case_id="no-such-case",
        supporter={"name": "=cmd()", "email": "not-an-email", "country": "XX"},
        count=0,
        occurred_at=(NOW + timedelta(hours=1)).isoformat(),
    )
    assert fields_of(body) == {
        "case_id",
        "supporter.name",
        "supporter.email",
        "supporter.country",
        "count",
        "occurred_at",
    }


def test_future_within_the_clock_skew_is_accepted() -> None:
    body = signature(occurred_at=(NOW + timedelta(seconds=60)).isoformat())
    ActionIn.model_validate_json(orjson.dumps(body), context=rules())


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC: PostgreSQL refuses it
        "0001-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:30:00+01:00",  # 1999-12-31T23:30Z
    ],
)
def test_an_implausibly_old_occurred_at_is_refused(occurred_at: str) -> None:
    assert errors_of(signature(occurred_at=occurred_at)) == [
        {
            "field": "occurred_at",
            "code": "too_early",
            "message": "must not be before 2000-01-01T00:00:00Z",
        }
    ]


def test_occurred_at_from_2000_on_is_accepted() -> None:
    body = signature(occurred_at="2000-01-01T00:00:00Z")
    ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    ActionIn.model_validate_json(orjson.dumps(body))  # without the context's rules too


@pytest.mark.parametrize("field", ["channel", "accepted_at", "supporter_key", "source"])
def test_server_only_fields_are_refused_by_name(field: str) -> None:
    [error] = errors_of(signature(**{field: "x"}))
    assert error == {
        "field": field,
        "code": "server_only",
        "message": "is set by the server and may not be sent",
    }


def test_unknown_fields_are_refused_at_every_level() -> None:
    body = signature(extra=1)
    body["supporter"]["phone"] = "123"
    body["consent"]["newsletter"] = True
    assert fields_of(body) == {"extra", "supporter.phone", "consent.newsletter"}


def test_signature_needs_a_supporter_and_solidarity_message_a_message() -> None:
    assert errors_of(signature(supporter=None)) == [
        {
            "field": "supporter",
            "code": "required_for_type",
            "message": "is required for a signature",
        }
    ]
    body = signature(type="solidarity_message")
    assert errors_of(body) == [
        {
            "field": "message",
            "code": "required_for_type",
            "message": "is required for a solidarity_message",
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        signature(supporter={"name": "Awa", "country": "SN"}),  # no email
        signature(supporter={"email": "a@example.org"}),  # no name
        signature(type="letter", count=3, supporter={"country": "SN"}),  # a tally: country alone
        signature(type="letter", count=3, supporter={"name": "Awa"}),  # a tally, half named
        signature(type="solidarity_message", message="Courage"),
    ],
)
def test_an_action_is_told_the_same_whole_action_rules_validated_or_as_sent(
    body: dict[str, Any],
) -> None:
    # A validated action that has all it needs is passed in a few reads (`_whole`); each
    # other one goes through the rules as the JSON sent would.
    sent = orjson.loads(orjson.dumps(body))
    try:
        validated: Any = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    except ValidationError as refused:
        assert [(e["type"], e["loc"]) for e in refused.errors()] == [
            (f.code, f.loc) for f in faults(sent)
        ]
        return
    assert faults(validated) == faults(sent) == []


@pytest.mark.parametrize("sent", [[None, None], None, "text", 3, [{"type": "signature"}]])
def test_json_that_is_no_object_has_no_whole_action_fault(sent: Any) -> None:
    # What a client may send instead of an action (schemathesis sent [null, null]): its
    # fields' errors say what is wrong; the whole-action rules find nothing to add.
    assert faults(sent) == []


def test_other_types_need_neither() -> None:
    body = {"case_id": "sonia-dahmani", "type": "tweet"}
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    assert action.supporter is None and action.count is None and action.occurred_at is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", "3"),
        ("count", 1.5),
        ("consent", {"contact": "yes"}),
        ("type", "petition"),
        ("action_id", "not-a-uuid"),
        ("occurred_at", "2025-12-10T09:00:00"),
    ],
)
def test_types_are_strict(field: str, value: Any) -> None:
    assert {e["field"].split(".")[0] for e in errors_of(signature(**{field: value}))} == {field}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("supporter.name", "a" * 201),
        ("supporter.email", "a" * 250 + "@x.org"),
        ("message", "m" * 5_001),
        ("case_id", "c" * 81),
    ],
)
def test_strings_are_bounded(path: str, value: str) -> None:
    body = signature()
    if path.startswith("supporter."):
        body["supporter"][path.split(".")[1]] = value
    else:
        body[path] = value
    assert path in fields_of(body)


def test_count_is_bounded() -> None:
    assert fields_of(signature(count=100_001)) == {"count"}
    ActionIn.model_validate_json(orjson.dumps(signature(count=100_000)), context=rules())


def test_zero_width_characters_in_a_message_are_refused() -> None:
    body = signature(type="solidarity_message", message="stay\u200b strong")
    [error] = errors_of(body)
    assert error["field"] == "message" and "U+200B" in error["message"]
    assert error["code"] == "invisible_character"


def test_invalid_json_is_told_apart() -> None:
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(b'{"case_id": ', context=rules())
    assert is_invalid_json(caught.value, b'{"case_id": ')


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_numbers_json_does_not_have_are_invalid_json_not_invalid_fields(number: bytes) -> None:
    """pydantic's parser reads them as floats that then fail as field values."""
    body = b'{"case_id": "sonia-dahmani", "type": "letter", "count": %s}' % number
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(body, context=rules())
    assert is_invalid_json(caught.value, body)
    valid_json = body.replace(number, b"2.5")
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(valid_json, context=rules())
    assert not is_invalid_json(caught.value, valid_json)


def test_batch_errors_carry_the_item_index() -> None:
    body = {"actions": [signature(), signature(supporter={"name": "A", "email": "bad"})]}
    with pytest.raises(ValidationError) as caught:
        BatchIn.model_validate_json(orjson.dumps(body), context=rules())
    [error] = caught.value.errors()
    assert error["loc"][:2] == ("actions", 1)
    assert field_errors([error], skip=2)[0]["field"] == "supporter.email"


def test_batch_size_is_bounded() -> None:
    with pytest.raises(ValidationError):
        BatchIn.model_validate_json(orjson.dumps({"actions": []}), context=rules())
    too_many = {"actions": [{"case_id": "sonia-dahmani", "type": "tweet"}] * 1_001}
    with pytest.raises(ValidationError):
        BatchIn.model_validate_json(orjson.dumps(too_many), context=rules())


@pytest.mark.parametrize(
    ("email", "normalised"),
    [
        ("Awa.Diallo@Example.ORG", "Awa.Diallo@example.org"),
        ("josé@exämple.org", "josé@exämple.org"),
        ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
    ],
)
def test_emails_are_normalised_by_email_validator(email: str, normalised: str) -> None:
    body = signature()
    body["supporter"]["email"] = email
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    assert action.supporter is not None and action.supporter.email == normalised


@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign",
        "@example.org",
        "a..b@example.org",
        "a@-bad-.org",
        "a@example",
        "a b@example.org",
        "a@localhost",
    ],
)
def test_bad_emails_are_refused_whichever_half_is_wrong(email: str) -> None:
    body = signature()
    body["supporter"]["email"] = email
    assert fields_of(body) == {"supporter.email"}


def test_a_remembered_domain_still_checks_the_local_part() -> None:
    good, bad = signature(), signature()
    bad["supporter"]["email"] = "a..b@example.org"
    ActionIn.model_validate_json(orjson.dumps(good), context=rules())
    assert fields_of(bad) == {"supporter.email"}


@pytest.mark.parametrize("name", ["Awa\u00a0Diallo", "Awa\u3164Diallo", "Awa\u2028Diallo"])
def test_unusual_spaces_pass_but_invisible_fillers_do_not(name: str) -> None:
    body = signature()
    body["supporter"]["name"] = name
    if name == "Awa\u00a0Diallo":
        ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    else:
        assert fields_of(body) == {"supporter.name"}


def test_every_field_error_carries_a_stable_code_for_frontends() -> None:
    """Issue 12, item 3: the `field` + `message` shape stays, with a `code` a frontend can
    translate (pydantic's own error types, or plume's for its own rules)."""
    body = {
        "case_id": "sonia-dahmani",
        "type": "signature",
        "supporter": {"name": "=HYPERLINK(1)", "email": "no-at-sign", "country": "XX"},
        "occurred_at": "1999-12-31T23:59:59Z",
        "channel": "web",
    }
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(orjson.dumps(body))
    codes = {error["field"]: error["code"] for error in field_errors(caught.value.errors())}
    assert codes == {
        "supporter.name": "formula_start",
        "supporter.email": "invalid_email",
        "supporter.country": "invalid_country",
        "occurred_at": "too_early",
        "channel": "server_only",
    }
