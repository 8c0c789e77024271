"""Transmission as a use case, through fakes of its ports: a due dossier is sent by its
channel and recorded sent; a failure is recorded with a retry time that backs off; a
claimed dossier is left to its sender for the lease, then claimed again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.delivery.domain.ports import Outgoing, Sender
from services.delivery.domain.status import DossierStatus
from services.delivery.service import Transmission, transmit_due
from shared.contracts.dossiers import DossierKind
from tests.unit.delivery.fakes import FakeSender, FakeTransmissionLedger

pytestmark = pytest.mark.unit
START = datetime(2025, 12, 10, 12, tzinfo=UTC)
RULES = Transmission(Path("/dossiers"), timedelta(seconds=120), retry_base_s=2, retry_cap_s=10)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def dossier(ledger: FakeTransmissionLedger, channel: str, rendered: bool = True) -> uuid.UUID:
    outgoing = Outgoing(
        uuid.uuid4(),
        "a",
        "t1",
        DossierKind.SIGNATURES,
        channel,
        "minister@example.org" if channel == "email" else "https://receiver.example.org/",
        0,
        {"signatures.csv": "0" * 64, "dossier.pdf": "1" * 64},
    )
    return ledger.add(outgoing, rendered)


async def test_a_due_dossier_is_sent_by_its_channel_with_its_files() -> None:
    ledger, email, webhook, clock = FakeTransmissionLedger(), FakeSender(), FakeSender(), Clock()
    by_email = dossier(ledger, "email")
    by_hand = dossier(ledger, "manual")
    not_rendered = dossier(ledger, "webhook", rendered=False)
    senders: dict[str, Sender] = {"email": email, "webhook": webhook}

    assert await transmit_due(ledger, senders, RULES, clock) == 1

    ((item, files),) = email.sent
    assert item.dossier_id == by_email and item.attempts == 1
    assert files == {
        "signatures.csv": Path(f"/dossiers/{by_email}/signatures.csv"),
        "dossier.pdf": Path(f"/dossiers/{by_email}/dossier.pdf"),
    }
    assert webhook.sent == []
    assert await ledger.status_of(by_email) is DossierStatus.SENT
    assert await ledger.status_of(by_hand) is DossierStatus.SEALED
    assert await ledger.status_of(not_rendered) is DossierStatus.SEALED
    assert await transmit_due(ledger, senders, RULES, clock) == 0  # sent once only


async def test_a_failed_send_is_retried_after_a_pause_that_doubles_up_to_the_cap() -> None:
    ledger, clock = FakeTransmissionLedger(), Clock()
    dossier_id = dossier(ledger, "webhook")
    webhook = FakeSender(failing=4)
    senders: dict[str, Sender] = {"webhook": webhook}
    pauses = []
    for _ in range(4):
        assert await transmit_due(ledger, senders, RULES, clock) == 1
        assert await ledger.status_of(dossier_id) is DossierStatus.FAILED
        retry_at = ledger.dossiers[dossier_id].due_at
        pauses.append((retry_at - clock.now).total_seconds())
        clock.now = retry_at - timedelta(milliseconds=1)
        assert await transmit_due(ledger, senders, RULES, clock) == 0  # not due yet
        clock.now = retry_at

    assert pauses == [2, 4, 8, 10]
    assert await transmit_due(ledger, senders, RULES, clock) == 1
    assert await ledger.status_of(dossier_id) is DossierStatus.SENT
    assert webhook.sent[0][0].attempts == 5
    failures = [e for e in ledger.events if e.status is DossierStatus.FAILED]
    assert [e.error for e in failures] == ["receiver: HTTP 503"] * 4


class ProcessDied(Exception):
    pass


class Crashing:
    """A sender whose process dies mid-send: nothing is recorded."""

    async def send(self, item: Outgoing, files: dict[str, Path]) -> None:
        raise ProcessDied


async def test_a_claimed_dossier_is_left_to_its_sender_for_the_lease() -> None:
    ledger, clock = FakeTransmissionLedger(), Clock()
    dossier_id = dossier(ledger, "email")
    with pytest.raises(ProcessDied):
        await transmit_due(ledger, {"email": Crashing()}, RULES, clock)
    email = FakeSender()
    senders: dict[str, Sender] = {"email": email}

    clock.now = START + RULES.lease - timedelta(milliseconds=1)
    assert await transmit_due(ledger, senders, RULES, clock) == 0
    clock.now = START + RULES.lease
    assert await transmit_due(ledger, senders, RULES, clock) == 1

    assert [(item.dossier_id, item.attempts) for item, _ in email.sent] == [(dossier_id, 2)]
    assert await ledger.status_of(dossier_id) is DossierStatus.SENT
