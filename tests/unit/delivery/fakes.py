"""In-memory fakes of the delivery ports: the TransmissionLedger (held to the same
contract as the PostgreSQL one), the cutter, the catalogue, a sender, the publisher."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.delivery.domain.addressees import CutOrder
from services.delivery.domain.ports import (
    NotFound,
    Outgoing,
    PendingCase,
    SendFailed,
    StatusEvent,
)
from services.delivery.domain.status import DossierStatus, check_transition
from shared.contracts.catalog import Case, CaseRecord
from shared.contracts.dossiers import DossierEvent, DossierKind

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

    async def acknowledge(self, dossier_id: uuid.UUID, by: str, note: str | None) -> DossierStatus:
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


def case_record(
    case_id: str = "sonia-dahmani",
    channels: tuple[str, ...] = ("manual",),
    status: str = "open",
) -> CaseRecord:
    """A case with one target per channel (`t1`, `t2`, …), from a campaign `c`."""
    deliveries = {
        "manual": {"channel": "manual"},
        "email": {"channel": "email", "address": "minister@example.org"},
        "webhook": {"channel": "webhook", "url": "https://receiver.example.org/hook"},
    }
    targets = [
        {"id": f"t{i}", "name": f"Minister {i}", "country": "TN", "language": "fr"}
        | {"delivery": deliveries[channel]}
        for i, channel in enumerate(channels, start=1)
    ]
    case = Case.model_validate(
        {
            "id": case_id,
            "name": "Sonia Dahmani",
            "country": "TN",
            "status": status,
            "summary": {"fr": "Avocate emprisonnée."},
            "request": {"fr": "Libérez-la."},
            "targets": targets,
        }
    )
    return CaseRecord(campaign_id="c", campaign_name="Write for Rights", milestones=[], case=case)


class FakeCatalogue:
    def __init__(self, *records: CaseRecord, loaded: bool = True) -> None:
        self.loaded = asyncio.Event()
        if loaded:
            self.loaded.set()
        self.cases: dict[str, CaseRecord] = {r.case.id: r for r in records}

    def get(self, case_id: str) -> CaseRecord | None:
        return self.cases.get(case_id)


@dataclass(frozen=True)
class Cut:
    order: CutOrder
    ids: list[uuid.UUID]


class FakeCutter:
    """Pending items per (case, kind); a cut takes them all, as the PostgreSQL one does."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, DossierKind], PendingCase] = {}
        self.cuts: list[Cut] = []

    def add(self, case_id: str, kind: DossierKind, count: int, oldest: datetime) -> None:
        self.waiting[(case_id, kind)] = PendingCase(case_id, kind, count, oldest)

    async def pending(self) -> list[PendingCase]:
        return list(self.waiting.values())

    async def cut(self, order: CutOrder) -> list[uuid.UUID]:
        if self.waiting.pop((order.case_id, order.kind), None) is None:
            return []
        ids = [uuid.uuid4() for _ in order.addressees]
        self.cuts.append(Cut(order, ids))
        return ids


class FakeSender:
    """Records what it sent; fails (SendFailed) while `failing` is above zero."""

    def __init__(self, failing: int = 0) -> None:
        self.failing = failing
        self.sent: list[tuple[Outgoing, dict[str, Path]]] = []

    async def send(self, item: Outgoing, files: dict[str, Path]) -> None:
        if self.failing > 0:
            self.failing -= 1
            raise SendFailed("receiver: HTTP 503")
        self.sent.append((item, files))


class FakePublisher:
    """Keeps what it published; `fail` makes the next publish raise (the broker down)."""

    def __init__(self) -> None:
        self.published: list[DossierEvent] = []
        self.fail = False

    async def publish(self, events: Sequence[DossierEvent]) -> None:
        if self.fail:
            raise ConnectionError("no broker")
        self.published.extend(events)
