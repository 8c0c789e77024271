"""Use cases of the delivery service, on its ports only (domain/ports.py): cutting,
transmission, event publication. The clock is an argument so tests can set it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.delivery import metrics
from services.delivery.domain.addressees import cut_order, require_webhook_secret
from services.delivery.domain.key_retention import KeyRetention
from services.delivery.domain.policy import CutPolicy, CutReason
from services.delivery.domain.ports import (
    Catalogue,
    Cutter,
    DataKeyExpiry,
    EventPublisher,
    FileRetention,
    PendingCase,
    Sender,
    SendFailed,
    StatusEvent,
    TransmissionLedger,
)
from services.delivery.domain.status import retry_delay
from shared.contracts.catalog import CaseRecord
from shared.contracts.dossiers import DossierEvent, DossierKind

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SEND_BATCH = 10
PUBLISH_BATCH = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


async def cut_due_cases(
    cutter: Cutter, catalogue: Catalogue, policy: CutPolicy, now: datetime
) -> list[uuid.UUID]:
    """Cut every case whose pending items the policy says are due; new dossier ids."""
    if not catalogue.loaded.is_set():
        return []  # an open/closed status read halfway through the catalogue may be stale
    pending = await cutter.pending()
    metrics.report_pending(pending_signatures(pending, catalogue.cases))
    created: list[uuid.UUID] = []
    for item in pending:
        record = catalogue.get(item.case_id)
        if record is None:
            continue  # unknown case: its items wait until the catalogue knows it
        reason = policy.reason_to_cut(item.count, item.oldest, now, record.is_open)
        if reason is not None:
            created += await cutter.cut(cut_order(record, item.kind, reason))
    return created


async def cut_case_now(
    cutter: Cutter, catalogue: Catalogue, case_id: str
) -> list[uuid.UUID] | None:
    """Seal everything pending for the case at once; None if the case is unknown."""
    record = catalogue.get(case_id)
    if record is None:
        return None
    created: list[uuid.UUID] = []
    for kind in DossierKind:
        created += await cutter.cut(cut_order(record, kind, CutReason.REQUESTED))
    return created


def pending_signatures(
    pending: list[PendingCase], cases: Mapping[str, CaseRecord]
) -> dict[str, int]:
    """Signatures waiting per case; every known case has a value (0: none)."""
    counts = dict.fromkeys(cases, 0)
    for item in pending:
        if item.kind is DossierKind.SIGNATURES:
            counts[item.case_id] = item.count
    return counts


@dataclass(frozen=True)
class Transmission:
    """How sending goes: where the rendered files are, how long a claimed dossier is
    left to its sender, and the backoff after a failure."""

    folder: Path
    lease: timedelta
    retry_base_s: float
    retry_cap_s: float


async def transmit_due(
    ledger: TransmissionLedger,
    senders: Mapping[str, Sender],
    transmission: Transmission,
    clock: Clock = utc_now,
) -> int:
    """Send the dossiers that are due; returns how many were attempted."""
    due = await ledger.claim_due(clock(), transmission.lease, limit=SEND_BATCH)
    for item in due:
        metrics.ATTEMPTS.labels(item.channel).inc()
        files = {name: transmission.folder / str(item.dossier_id) / name for name in item.files}
        try:
            await senders[item.channel].send(item, files)
        except (SendFailed, OSError) as exc:
            metrics.FAILURES.labels(item.channel).inc()
            delay = retry_delay(item.attempts, transmission.retry_base_s, transmission.retry_cap_s)
            log.warning(
                "transmission failed", extra={"dossier_id": str(item.dossier_id), "error": str(exc)}
            )
            await ledger.record_failed(item.dossier_id, str(exc), clock() + delay)
        else:
            await ledger.record_sent(item.dossier_id)
    return len(due)


async def expire_files(retention: FileRetention, kept_for: timedelta, now: datetime) -> int:
    """Delete the files of every dossier acknowledged longer than `kept_for` ago."""
    deleted = 0
    while done := await retention.expire(now - kept_for):
        deleted += done
    metrics.FILES_DELETED.inc(deleted)
    metrics.RETENTION_RUN.set(now.timestamp())
    return deleted


async def expire_data_keys(keys: DataKeyExpiry, retention: KeyRetention, now: datetime) -> int:
    """Destroy every data key whose retention is over and that nothing needs any more,
    walking the keys unused that long in bounded batches."""
    destroyed, after = 0, None
    while (batch := await keys.expire_after(retention, now, after)).examined:
        destroyed, after = destroyed + batch.destroyed, batch.last
    metrics.DATA_KEYS_DESTROYED.inc(destroyed)
    metrics.KEY_RETENTION_RUN.set(now.timestamp())
    return destroyed


async def publish_events(ledger: TransmissionLedger, publisher: EventPublisher) -> int:
    """Publish queued status events (acknowledged by all replicas), then mark them
    published. A crash in between republishes them with the same event_id."""
    events = await ledger.unpublished(limit=PUBLISH_BATCH)
    if not events:
        return 0
    await publisher.publish([dossier_event(e) for e in events])
    await ledger.mark_published([e.event_id for e in events])
    return len(events)


def dossier_event(event: StatusEvent) -> DossierEvent:
    return DossierEvent(
        event_id=event.event_id,
        dossier_id=event.dossier_id,
        case_id=event.case_id,
        target_id=event.target_id,
        kind=event.kind,
        status=event.status.value,
        count=event.count,
        attempts=event.attempts,
        error=event.error,
        occurred_at=event.occurred_at,
    )


async def check_webhook_secret(catalogue: Catalogue, secret_set: bool, wait_s: float) -> None:
    """Refuse to start (WebhookSecretMissing) when a target is delivered by webhook and no
    secret signs its requests: the catalogue is awaited for up to `wait_s` to know."""
    try:
        await asyncio.wait_for(catalogue.loaded.wait(), wait_s)
    except TimeoutError:
        log.warning("catalogue not read at start: webhook targets not checked yet")
        return
    require_webhook_secret(list(catalogue.cases.values()), secret_set)
