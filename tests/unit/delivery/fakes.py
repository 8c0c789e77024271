"""In-memory TransmissionLedger, held to the same contract as the PostgreSQL one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from services.delivery.domain.ports import NotFound, Outgoing, StatusEvent
from services.delivery.domain.status import DossierStatus, check_transition

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class FakeDossier:
    outgoing: Outgoing
    status: DossierStatus = DossierStatus.SEALED
    rendered: bool = True
    due_at: datetime = EPOCH
    count: int = 1


class FakeTransmissionLedger:
    def __init__(self) -> None:
        self.dossiers: dict[uuid.UUID, FakeDossier] = {}
        self.events: list[StatusEvent] = []
        self.published: set[int] = set()

    def add(self, outgoing: Outgoing, rendered: bool = True) -> uuid.UUID:
        self.dossiers[outgoing.dossier_id] = FakeDossier(outgoing, rendered=rendered)
        self._queue(outgoing.dossier_id, DossierStatus.SEALED, None)
        return outgoing.dossier_id

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]:
        due = [
            d
            for d in self.dossiers.values()
            if d.rendered
            and d.status in (DossierStatus.SEALED, DossierStatus.FAILED)
            and d.outgoing.channel in ("email", "webhook")
            and d.due_at <= now
        ]
        claimed = []
        for d in sorted(due, key=lambda d: d.due_at)[:limit]:
            d.outgoing = replace(d.outgoing, attempts=d.outgoing.attempts + 1)
            d.due_at = now + lease
            claimed.append(d.outgoing)
        return claimed

    async def record_sent(self, dossier_id: uuid.UUID) -> None:
        self._move(dossier_id, DossierStatus.SENT, None, None)

    async def record_failed(self, dossier_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        self._move(dossier_id, DossierStatus.FAILED, error, retry_at)

    async def acknowledge(self, dossier_id: uuid.UUID) -> DossierStatus:
        self._move(dossier_id, DossierStatus.ACKNOWLEDGED, None, None)
        return DossierStatus.ACKNOWLEDGED

    async def status_of(self, dossier_id: uuid.UUID) -> DossierStatus:
        return self._get(dossier_id).status

    async def unpublished(self, limit: int) -> list[StatusEvent]:
        return [e for e in self.events if e.event_id not in self.published][:limit]

    async def mark_published(self, event_ids: list[int]) -> None:
        self.published.update(event_ids)

    def _get(self, dossier_id: uuid.UUID) -> FakeDossier:
        if dossier_id not in self.dossiers:
            raise NotFound(str(dossier_id))
        return self.dossiers[dossier_id]

    def _move(
        self, dossier_id: uuid.UUID, wanted: DossierStatus, error: str | None, at: datetime | None
    ) -> None:
        d = self._get(dossier_id)
        check_transition(d.status, wanted)
        d.status = wanted
        if at is not None:
            d.due_at = at
        self._queue(dossier_id, wanted, error)

    def _queue(self, dossier_id: uuid.UUID, status: DossierStatus, error: str | None) -> None:
        d = self.dossiers[dossier_id]
        o = d.outgoing
        self.events.append(
            StatusEvent(
                len(self.events) + 1,
                dossier_id,
                o.case_id,
                o.target_id,
                o.kind,
                status,
                d.count,
                o.attempts,
                error,
                datetime.now(UTC),
            )
        )
