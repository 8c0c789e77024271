"""The decision on a validated action: channel, tally rights, closed cases, and which
personal data reaches the wire."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import pytest
from pydantic import ValidationError

from services.intake.domain.actions import ANONYMOUS, Caller, Context, Rejection, decide
from services.intake.domain.model import ActionIn
from services.intake.domain.supporter_key import supporter_key
from shared.contracts.action_record import ActionRecord, encode_record, record_of
from shared.contracts.actions import ActionEvent, Channel
from shared.contracts.catalog import CaseRecord, CaseStatus
from shared.kafka import decode
from tests.unit.intake.builders import NOW, rules, signature

pytestmark = pytest.mark.unit
SECRET = b"unit-test-secret-0123"
CTX = Context(SECRET, NOW, 300, "req-1")


def record(case_id: str, status: CaseStatus) -> CaseRecord:
    return CaseRecord.model_validate(
        {
            "campaign_id": "w4r-2025",
            "campaign_name": "Write for Rights 2025",
            "milestones": [10],
            "case": {
                "id": case_id,
                "name": "Someone",
                "country": "TN",
                "status": status,
                "targets": [{"id": "t", "name": "Target", "country": "TN", "language": "fr"}],
            },
        }
    )


CASES = {
    "sonia-dahmani": record("sonia-dahmani", CaseStatus.OPEN),
    "closed-case": record("closed-case", CaseStatus.CLOSED),
}


def action(**overrides: Any) -> ActionIn:
    return ActionIn.model_validate_json(orjson.dumps(signature(**overrides)), context=rules())


def event(outcome: ActionRecord | Rejection) -> ActionRecord:
    assert isinstance(outcome, ActionRecord), outcome
    return outcome


def test_a_web_signature_with_consent_to_share_the_name_only() -> None:
    out = event(decide(action(), ANONYMOUS, CASES.get, CTX))
    assert out.channel is Channel.WEB and out.source == "anonymous" and out.count == 1
    assert out.action_id == UUID("2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11")
    assert out.supporter_name == "Awa Diallo"
    assert out.supporter_email is None
    assert out.supporter_key == supporter_key(SECRET, "awa@example.org")
    assert out.country == "SN" and out.accepted_at == NOW and out.request_id == "req-1"


def test_the_email_travels_only_with_consent_to_be_contacted() -> None:
    consent = {"share_name_with_target": False, "contact": True}
    out = event(decide(action(consent=consent), ANONYMOUS, CASES.get, CTX))
    assert out.supporter_name is None
    assert out.supporter_email == "awa@example.org"


def test_the_event_survives_the_wire_and_validates() -> None:
    out = event(decide(action(), ANONYMOUS, CASES.get, CTX))
    assert record_of(decode(ActionEvent, encode_record(out))) == out


def test_an_action_without_id_gets_one_and_without_supporter_counts_as_zz() -> None:
    body = action(action_id=None, type="tweet", supporter=None, occurred_at=None)
    out = event(decide(body, ANONYMOUS, CASES.get, CTX))
    assert out.action_id.version == 7 and out.country == "ZZ" and out.supporter_key is None
    assert out.occurred_at == NOW


def test_a_tally_needs_the_tally_scope() -> None:
    refused = decide(action(count=300), Caller("partner-x"), CASES.get, CTX)
    assert isinstance(refused, Rejection) and refused.status == 403
    out = event(decide(action(count=300), Caller("marathon", may_tally=True), CASES.get, CTX))
    assert out.count == 300 and out.channel is Channel.EVENT and out.source == "marathon"


def test_count_of_one_needs_no_scope() -> None:
    assert event(decide(action(count=1), ANONYMOUS, CASES.get, CTX)).channel is Channel.WEB


def test_the_batch_endpoint_is_the_partner_channel() -> None:
    caller = Caller("ngo", may_tally=True, partner=True)
    assert event(decide(action(count=5), caller, CASES.get, CTX)).channel is Channel.PARTNER


def test_a_closed_case_is_409_and_so_is_one_removed_since_validation() -> None:
    closed = decide(action(case_id="closed-case"), ANONYMOUS, CASES.get, CTX)
    assert isinstance(closed, Rejection) and closed.status == 409
    # An unknown case is refused by validation (model.Rules, test_model); one removed from
    # the catalogue (a tombstone) between validation and decision takes no actions either.
    no_cases: dict[str, CaseRecord] = {}
    removed = decide(action(), ANONYMOUS, no_cases.get, CTX)
    assert isinstance(removed, Rejection) and removed.status == 409
    assert removed.errors[0]["field"] == "case_id"


def test_unknown_cases_and_future_dates_are_refused_once_by_validation() -> None:
    """The two rules that need the world (the catalogue, the clock) live in model.Rules
    only; decide() trusts them instead of checking again."""
    body = signature(case_id="no-such-case", occurred_at="2025-12-10T13:00:00Z")  # NOW + 1 h
    with pytest.raises(ValidationError) as caught:
        ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    messages = {str(e["loc"][0]): e["msg"] for e in caught.value.errors()}
    assert messages == {
        "case_id": "is not a case of the campaign",
        "occurred_at": "must not be in the future",
    }
