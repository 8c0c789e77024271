"""Which actions wait for a confirmation, the link's secret, and the request's text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.intake.adapters.confirmation_mail import confirmation_message
from services.intake.domain.confirmations import Mail, needs_confirmation, new_token, token_hash
from shared.contracts.action_record import ActionRecord, record_of
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.contracts.catalog import CampaignFile, CaseRecord, case_records

CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy/campaigns/w4r-2025.json"

pytestmark = pytest.mark.unit


def record(confirm: bool) -> CaseRecord:
    campaign = CampaignFile.model_validate_json(CAMPAIGN.read_bytes())
    campaign = campaign.model_copy(update={"confirm_signatures": confirm})
    return case_records(campaign)[0]


def event(kind: ActionType) -> ActionRecord:
    now = datetime.now(UTC)
    return record_of(
        ActionEvent(
            action_id=uuid.uuid4(),
            case_id=record(False).case.id,
            type=kind,
            count=1,
            channel=Channel.WEB,
            occurred_at=now,
            accepted_at=now,
            source="anonymous",
        )
    )


def test_only_signatures_of_campaigns_that_ask_wait_for_a_confirmation() -> None:
    assert needs_confirmation(event(ActionType.SIGNATURE), record(True))
    assert not needs_confirmation(event(ActionType.SIGNATURE), record(False))
    assert not needs_confirmation(event(ActionType.LETTER), record(True))
    assert not needs_confirmation(event(ActionType.SIGNATURE), None)


def test_each_link_has_its_own_secret_and_only_its_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 43 and token_hash(token) != token and len(token_hash(token)) == 64


@pytest.mark.parametrize(
    ("language", "word"), [("fr", "confirmer"), ("en", "confirm"), ("xx", "confirm")]
)
def test_the_request_names_the_case_carries_the_link_in_the_supporters_language(
    language: str, word: str
) -> None:
    mail = Mail(uuid.uuid4(), "sonia-dahmani", "awa@example.org", language, "t0k3n")
    message = confirmation_message(mail, "https://x.example/v1/confirmations/t0k3n", "Sonia", "s@x")
    assert word in message["Subject"].lower()
    assert "Sonia" in message["Subject"]
    assert "https://x.example/v1/confirmations/t0k3n" in message.get_content()
    assert message["Message-ID"] == f"<confirm-{mail.action_id}@plume>"
