"""Use cases of the delivery service. Each takes its ports and adapters as arguments."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from services.delivery.adapters.cutting import PendingCase, PgCutter
from services.delivery.adapters.senders import SendFailed
from services.delivery.domain.policy import CutPolicy, CutReason
from services.delivery.domain.status import retry_delay
from services.delivery.ports import Outgoing, StatusEvent, TransmissionLedger
from shared.catalog import CatalogView
from shared.contracts.dossiers import DossierEvent
from shared.kafka import encode

log = logging.getLogger(__name__)

PENDING = Gauge("plume_delivery_pending_signatures", "Signatures not yet in a dossier", ["case"])
ATTEMPTS = Counter("plume_delivery_transmissions_total", "Transmission attempts", ["channel"])
FAILURES = Counter(
    "plume_delivery_transmission_failures_total", "Failed transmissions", ["channel"]
)


class Sender(Protocol):
    async def send(self, item: Outgoing, files: dict[str, Path]) -> None: ...


async def cut_due_cases(
    pool: asyncpg.Pool, cutter: PgCutter, catalog: CatalogView, policy: CutPolicy
) -> list[uuid.UUID]:
    """Cut every case whose pending items the policy says are due; new dossier ids."""
    async with pool.acquire() as conn:
        pending = await cutter.pending(conn)
    _report_pending(pending, catalog)
    now = datetime.now(UTC)
    created: list[uuid.UUID] = []
    for item in pending:
        record = catalog.get(item.case_id)
        if record is None:
            continue  # unknown case: its items wait until the catalogue knows it
        reason = policy.reason_to_cut(item.count, item.oldest, now, record.is_open)
        if reason is not None:
            async with pool.acquire() as conn:
                created += await cutter.cut(conn, record, item.kind, reason)
    return created


async def cut_case_now(
    pool: asyncpg.Pool, cutter: PgCutter, catalog: CatalogView, case_id: str
) -> list[uuid.UUID] | None:
    """Seal everything pending for the case at once; None if the case is unknown."""
    record = catalog.get(case_id)
    if record is None:
        return None
    created: list[uuid.UUID] = []
    async with pool.acquire() as conn:
        for kind in ("signatures", "solidarity"):
            created += await cutter.cut(conn, record, kind, CutReason.REQUESTED)
    return created


def _report_pending(pending: list[PendingCase], catalog: CatalogView) -> None:
    counts = {case_id: 0 for case_id in catalog.cases}
    for item in pending:
        if item.kind == "signatures":
            counts[item.case_id] = item.count
    for case_id, count in counts.items():
        PENDING.labels(case_id).set(count)


async def transmit_due(
    ledger: TransmissionLedger,
    senders: dict[str, Sender],
    folder: Path,
    lease: timedelta,
    retry: tuple[float, float],
) -> int:
    """Send the dossiers that are due; returns how many were attempted."""
    due = await ledger.claim_due(datetime.now(UTC), lease, limit=10)
    for item in due:
        ATTEMPTS.labels(item.channel).inc()
        files = {name: folder / str(item.dossier_id) / name for name in item.files}
        try:
            await senders[item.channel].send(item, files)
        except (SendFailed, OSError) as exc:
            FAILURES.labels(item.channel).inc()
            retry_at = datetime.now(UTC) + retry_delay(item.attempts, *retry)
            log.warning(
                "transmission failed", extra={"dossier_id": str(item.dossier_id), "error": str(exc)}
            )
            await ledger.record_failed(item.dossier_id, str(exc), retry_at)
        else:
            await ledger.record_sent(item.dossier_id)
    return len(due)


async def publish_events(ledger: TransmissionLedger, producer: AIOKafkaProducer, topic: str) -> int:
    """Publish queued status events (acks=all), then mark them published. A crash in
    between republishes them with the same event_id."""
    events = await ledger.unpublished(limit=500)
    if not events:
        return 0
    futures = [
        await producer.send(topic, key=str(e.dossier_id).encode(), value=encode(_event(e)))
        for e in events
    ]
    for future in futures:
        await future
    await ledger.mark_published([e.event_id for e in events])
    return len(events)


def _event(e: StatusEvent) -> DossierEvent:
    return DossierEvent(
        event_id=e.event_id,
        dossier_id=e.dossier_id,
        case_id=e.case_id,
        target_id=e.target_id,
        kind="signatures" if e.kind == "signatures" else "solidarity",
        status=e.status.value,
        count=e.count,
        attempts=e.attempts,
        error=e.error,
        occurred_at=e.occurred_at,
    )
