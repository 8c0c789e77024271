"""Use cases of the intake, given their ports: accept one action, accept a batch, send
heartbeats."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.intake import metrics
from services.intake.domain.actions import Caller, CaseLookup, Context, Rejection, decide, heartbeat
from services.intake.domain.errors import FieldError
from services.intake.domain.model import ActionIn
from services.intake.domain.ports import ActionPublisher, PublishUnavailable
from shared.contracts.actions import ActionEvent
from shared.logs import trace_fields

log = logging.getLogger(__name__)


def _count_accepted(events: Sequence[ActionEvent]) -> None:
    tally = Counter((event.type, event.channel) for event in events)
    for (kind, channel), count in tally.items():
        metrics.accepted(kind, channel).inc(count)
    for channel, count in Counter(e.channel for e in events if e.disposable_email).items():
        metrics.DISPOSABLE_EMAILS.labels(channel.value).inc(count)


async def submit_action(
    action: ActionIn, caller: Caller, cases: CaseLookup, ctx: Context, publisher: ActionPublisher
) -> ActionEvent | Rejection:
    """The accepted event (acknowledged by Kafka) or the rejection; PublishUnavailable
    propagates when Kafka cannot take it."""
    outcome = decide(action, caller, cases, ctx)
    if isinstance(outcome, Rejection):
        return outcome  # counted with the answer's status
    try:
        await publisher.publish([outcome])
    except PublishUnavailable as exc:
        exc.action_id = outcome.action_id
        raise
    _count_accepted([outcome])
    return outcome


@dataclass(frozen=True)
class ItemResult:
    index: int
    event: ActionEvent | None = None
    errors: tuple[FieldError, ...] = ()


async def submit_batch(
    items: Sequence[ActionIn | list[FieldError]],
    caller: Caller,
    cases: CaseLookup,
    ctx: Context,
    publisher: ActionPublisher,
) -> list[ItemResult]:
    """Per-item results; every accepted event was acknowledged together before this
    returns, or PublishUnavailable propagates and none counts as accepted."""
    results: list[ItemResult] = []
    for index, item in enumerate(items):
        if isinstance(item, list):
            metrics.rejected(422)
            results.append(ItemResult(index, errors=tuple(item)))
            continue
        outcome = decide(item, caller, cases, ctx)
        if isinstance(outcome, Rejection):
            metrics.rejected(outcome.status)
            results.append(ItemResult(index, errors=outcome.errors))
        else:
            results.append(ItemResult(index, event=outcome))
    events = [result.event for result in results if result.event is not None]
    if events:
        try:
            await publisher.publish(events)
        except PublishUnavailable as exc:  # the ids the client retries with, item by item
            exc.action_ids = [
                str(result.event.action_id) if result.event else None for result in results
            ]
            raise
        _count_accepted(events)
        if log.isEnabledFor(logging.DEBUG):
            for event in events:
                log.debug("accepted", extra=trace_fields(event))
    return results


async def send_heartbeats(publisher: ActionPublisher, every_s: float) -> None:
    """Publish a heartbeat action every `every_s` seconds until cancelled; a failed one is
    skipped (the missing heartbeat is the signal operators watch)."""
    while True:
        try:
            beat = heartbeat(datetime.now(UTC))
            await publisher.publish([beat])
            log.info("heartbeat sent", extra=trace_fields(beat))
        except PublishUnavailable:
            log.warning("heartbeat not written: Kafka unavailable")
        await asyncio.sleep(every_s)
