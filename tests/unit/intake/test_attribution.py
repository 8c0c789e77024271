"""Contract v2, "Partners": tallies with a country alone, the supporter's language and the
tracking fields kept on the event, and every fault of an action listed at once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from services.intake.domain.actions import ANONYMOUS, Caller, Context, Rejection, decide
from services.intake.domain.model import ActionIn
from services.intake.entrypoints.batch import read_with_pydantic
from services.intake.entrypoints.guards import parse_action
from services.intake.entrypoints.requests import Refusal
from shared.contracts.action_record import ActionRecord, encode_record
from tests.unit.intake.builders import NOW, rules, signature
from tests.unit.intake.test_decide import CASES

pytestmark = pytest.mark.unit
CTX = Context(b"unit-test-secret-0123", NOW, 300, "req-1")
TALLY_KEY = Caller("amnesty-sn", may_tally=True)
TALLY = {"case_id": "sonia-dahmani", "type": "letter", "count": 300}


def parsed(body: dict[str, Any]) -> ActionIn:
    return ActionIn.model_validate_json(orjson.dumps(body), context=rules())


def fields_refused(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, code) of each error the single route answers, in order."""
    with pytest.raises(Refusal) as refused:
        parse_action(orjson.dumps(body), rules())
    assert refused.value.status == 422
    return [(e["field"], e["code"]) for e in refused.value.extra["errors"]]


def test_a_tally_carries_its_supporters_country_alone() -> None:
    out = decide(parsed({**TALLY, "supporter": {"country": "sn"}}), TALLY_KEY, CASES.get, CTX)
    assert isinstance(out, ActionRecord), out
    assert (out.country, out.count, out.source) == ("SN", 300, "amnesty-sn")
    assert out.supporter_key is None and out.supporter_name is None


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({**TALLY, "count": 1, "supporter": {"country": "SN"}}, ["name", "email"]),
        ({**TALLY, "supporter": {"country": "SN", "name": "Awa"}}, ["email"]),  # half a person
        ({**TALLY, "type": "signature", "supporter": {"country": "SN"}}, ["name", "email"]),
    ],
)
def test_only_a_tally_may_leave_out_who_its_supporter_is(
    body: dict[str, Any], missing: list[str]
) -> None:
    assert fields_refused(body) == [(f"supporter.{part}", "missing") for part in missing]


def test_language_and_tracking_travel_on_the_event() -> None:
    tracking = {"utm_source": "newsletter", "utm_campaign": "w4r", "referrer": "https://a.org/"}
    body = signature(
        supporter={"name": "Awa Diallo", "email": "awa@example.org", "language": "FR-sn"},
        tracking=tracking,
    )
    out = decide(parsed(body), ANONYMOUS, CASES.get, CTX)
    assert isinstance(out, ActionRecord), out
    assert out.language == "fr-SN"
    assert orjson.loads(encode_record(out))["tracking"] == tracking
    bare = decide(parsed(signature()), ANONYMOUS, CASES.get, CTX)
    assert isinstance(bare, ActionRecord) and bare.language is None and bare.tracking is None


@pytest.mark.parametrize("tag", ["xx-YY", "fr_FR", "en-US-u-ca-gregory", "qq", "fr-"])
def test_a_language_tag_that_is_not_bcp47_of_a_known_language_is_refused(tag: str) -> None:
    body = signature(supporter={"name": "Awa Diallo", "email": "awa@example.org", "language": tag})
    assert fields_refused(body) == [("supporter.language", "invalid_language")]


def test_tracking_fields_are_bounded_and_closed() -> None:
    body = signature(tracking={"utm_source": "x" * 201, "utm_term": "t", "referrer": "\x00"})
    assert sorted(fields_refused(body)) == [
        ("tracking.referrer", "invisible_character"),
        ("tracking.utm_source", "string_too_long"),
        ("tracking.utm_term", "extra_forbidden"),
    ]
    assert parsed(signature(tracking={"utm_medium": "x" * 200})).tracking is not None


def test_a_single_action_with_two_faults_lists_both() -> None:
    """Before: only `count` was listed (pydantic skips the type's rule once a field
    failed)."""
    body = {"case_id": "sonia-dahmani", "type": "solidarity_message", "count": 0}
    assert fields_refused(body) == [
        ("count", "greater_than_equal"),
        ("message", "required_for_type"),
    ]
    assert fields_refused({"type": "signature"}) == [
        ("case_id", "missing"),
        ("supporter", "required_for_type"),
    ]


def test_a_batch_item_with_two_faults_lists_both() -> None:
    items = [
        signature(),
        {"case_id": "no-such-case", "type": "signature"},  # two faults
        {**TALLY, "count": 2, "supporter": {"country": "QQ", "name": "A"}},
    ]
    first, second, third = read_with_pydantic(orjson.dumps({"actions": items}), rules())
    assert isinstance(first, ActionIn)
    assert isinstance(second, list) and isinstance(third, list)
    assert [(e["field"], e["code"]) for e in second] == [
        ("case_id", "unknown_case"),
        ("supporter", "required_for_type"),
    ]
    assert [(e["field"], e["code"]) for e in third] == [
        ("supporter.country", "invalid_country"),
        ("supporter.email", "missing"),
    ]


def test_a_refused_tally_on_a_closed_case_is_told_both() -> None:
    body = {**TALLY, "case_id": "closed-case"}
    out = decide(parsed(body), ANONYMOUS, CASES.get, CTX)
    assert isinstance(out, Rejection) and out.status == 403
    assert [e["code"] for e in out.errors] == ["tally_scope_required", "case_closed"]


def test_a_valid_action_with_a_whole_action_fault_raises_at_its_place() -> None:
    with pytest.raises(ValidationError) as caught:
        parsed({"case_id": "sonia-dahmani", "type": "signature"})
    assert [e["loc"] for e in caught.value.errors()] == [("supporter",)]
