"""The TransmissionLedger contract, run against the fake and the PostgreSQL adapter.
A subclass provides `ledger` and `seed(channel, rendered) -> dossier id` fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.domain.ports import NotFound, TransmissionLedger
from services.delivery.domain.status import DossierStatus, TransitionRefused

Seed = Callable[[str, bool], Awaitable[uuid.UUID]]
LEASE = timedelta(minutes=5)


def now() -> datetime:
    return datetime.now(UTC)


class LedgerContract:
    async def test_claims_a_due_email_dossier_once_within_the_lease(
        self, ledger: TransmissionLedger, seed: Seed
    ) -> None:
        dossier = await seed("email", True)
        first = await ledger.claim_due(now(), LEASE, 10)
        assert [o.dossier_id for o in first] == [dossier]
        assert first[0].attempts == 1 and first[0].channel == "email"
        assert await ledger.claim_due(now(), LEASE, 10) == []
        again = await ledger.claim_due(now() + LEASE * 2, LEASE, 10)
        assert [o.attempts for o in again] == [2]

    async def test_never_claims_manual_or_unrendered_dossiers(
        self, ledger: TransmissionLedger, seed: Seed
    ) -> None:
        await seed("manual", True)
        await seed("webhook", False)
        assert await ledger.claim_due(now(), LEASE, 10) == []

    async def test_sent_then_acknowledged_and_no_way_back(
        self, ledger: TransmissionLedger, seed: Seed
    ) -> None:
        dossier = await seed("webhook", True)
        await ledger.claim_due(now(), LEASE, 10)
        await ledger.record_sent(dossier)
        assert await ledger.status_of(dossier) is DossierStatus.SENT
        assert await ledger.claim_due(now() + LEASE * 2, LEASE, 10) == []
        await ledger.acknowledge(dossier, "team", None)
        assert await ledger.status_of(dossier) is DossierStatus.ACKNOWLEDGED
        with pytest.raises(TransitionRefused):
            await ledger.record_sent(dossier)

    async def test_a_failed_dossier_is_claimed_again_when_its_retry_is_due(
        self, ledger: TransmissionLedger, seed: Seed
    ) -> None:
        dossier = await seed("email", True)
        await ledger.claim_due(now(), LEASE, 10)
        retry_at = now() + timedelta(seconds=30)
        await ledger.record_failed(dossier, "smtp: refused", retry_at)
        assert await ledger.status_of(dossier) is DossierStatus.FAILED
        assert await ledger.claim_due(now(), LEASE, 10) == []
        later = await ledger.claim_due(retry_at + timedelta(seconds=1), LEASE, 10)
        assert [o.dossier_id for o in later] == [dossier]

    async def test_each_change_queues_one_event_until_published(
        self, ledger: TransmissionLedger, seed: Seed
    ) -> None:
        dossier = await seed("manual", True)
        await ledger.acknowledge(dossier, "team", None)
        events = [e for e in await ledger.unpublished(100) if e.dossier_id == dossier]
        assert [e.status for e in events] == [DossierStatus.SEALED, DossierStatus.ACKNOWLEDGED]
        assert events[0].event_id < events[1].event_id
        await ledger.mark_published([e.event_id for e in events])
        assert [e for e in await ledger.unpublished(100) if e.dossier_id == dossier] == []

    async def test_unknown_dossier_is_not_found(self, ledger: TransmissionLedger) -> None:
        with pytest.raises(NotFound):
            await ledger.acknowledge(uuid.uuid4(), "team", None)
        with pytest.raises(NotFound):
            await ledger.status_of(uuid.uuid4())
