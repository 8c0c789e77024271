"""Proof of consent: an action names the consent text its supporter saw (one of the
campaign file's), and that id travels with it; any other id is refused."""

from __future__ import annotations

import orjson
import pytest

from services.intake.domain.actions import ANONYMOUS, Rejection, decide
from services.intake.domain.model import ActionIn
from shared.contracts.action_record import ActionRecord
from shared.contracts.catalog import CampaignFile, CaseRecord, case_records
from tests.unit.intake.builders import rules, signature
from tests.unit.intake.test_decide import CTX

pytestmark = pytest.mark.unit
CAMPAIGN = {
    "id": "w4r-2025",
    "name": "Write for Rights 2025",
    "consent_texts": {"sign-v1": {"en": "I sign.", "fr": "Je signe."}},
    "cases": [
        {
            "id": "sonia-dahmani",
            "name": "Sonia Dahmani",
            "country": "TN",
            "status": "open",
            "targets": [{"id": "t", "name": "Target", "country": "TN", "language": "fr"}],
        }
    ],
}


def the_case() -> CaseRecord:
    (record,) = case_records(CampaignFile.model_validate(CAMPAIGN))
    return record


def with_text(text_id: str | None) -> ActionIn:
    consent = {"share_name_with_target": True, "text_id": text_id}
    body = signature(consent={k: v for k, v in consent.items() if v is not None})
    return ActionIn.model_validate_json(orjson.dumps(body), context=rules())


def test_the_consent_text_seen_travels_with_the_action() -> None:
    event = decide(with_text("sign-v1"), ANONYMOUS, lambda _: the_case(), CTX)
    assert isinstance(event, ActionRecord) and event.consent_text_id == "sign-v1"


def test_without_a_text_id_nothing_is_claimed() -> None:
    event = decide(with_text(None), ANONYMOUS, lambda _: the_case(), CTX)
    assert isinstance(event, ActionRecord) and event.consent_text_id is None


def test_a_text_the_campaign_does_not_hold_is_refused() -> None:
    refused = decide(with_text("sign-v0"), ANONYMOUS, lambda _: the_case(), CTX)
    assert isinstance(refused, Rejection) and refused.status == 422
    assert refused.errors[0]["field"] == "consent.text_id"
    assert refused.errors[0]["code"] == "unknown_consent_text"


def test_the_campaign_file_holds_the_texts_per_language() -> None:
    with pytest.raises(ValueError):
        CampaignFile.model_validate({**CAMPAIGN, "consent_texts": {"x": {"english": "?"}}})
    assert the_case().consent_texts["sign-v1"]["fr"] == "Je signe."
