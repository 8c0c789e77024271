"""After each committed batch: metrics, a poke to the read snapshot and the milestone
outbox; every second: consumer lag in records and seconds; on each change of totals:
the compacted totals topic and the per-case gauge."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.counter import metrics
from services.counter.adapters.milestone_outbox import MilestoneOutbox
from services.counter.adapters.snapshot import ChangeListener, Snapshot
from services.counter.domain.waves import WaveDetector
from services.counter.entrypoints.consumer import CountingHandler, Decoded
from shared.contracts.totals import CaseTotals
from shared.kafka import encode
from shared.lag import ConsumerLag
from shared.logs import trace_fields
from shared.positioned_consumer import PositionedConsumer
from shared.sending import send_all

log = logging.getLogger(__name__)
LAG_EVERY_S = 0.5
FRESHNESS_SAMPLES = 200  # per batch: enough for percentiles, cheap at 100k actions/s


class Observer:
    def __init__(
        self,
        consumer: PositionedConsumer[Decoded],
        handler: CountingHandler,
        snapshot: Snapshot,
        outbox: MilestoneOutbox,
        waves: WaveDetector,
    ) -> None:
        self.consumer = consumer
        self.waves = waves
        self.handler = handler
        self.snapshot = snapshot
        self.outbox = outbox
        self.lag = ConsumerLag("counter")

    def after_commit(self, records: int, seconds: float) -> None:
        report = self.handler.last
        self.snapshot.poke.set()
        if report.outcome.reached:
            self.outbox.poke.set()
        metrics.BATCH_SIZE.observe(records)
        metrics.FLUSH_SECONDS.observe(seconds)
        metrics.COUNTED.inc(len(report.outcome.counted))
        self.waves.observe(report.outcome.counted, time.time())  # replays are not counted
        metrics.CONFLICTS.inc(report.conflicts)
        if report.heartbeats:
            metrics.HEARTBEAT_COUNTED.set(time.time())
        now = datetime.now(UTC)
        step = max(1, len(report.fresh) // FRESHNESS_SAMPLES)
        for accepted in report.fresh[::step]:
            metrics.FRESHNESS.observe(max(0.0, (now - accepted).total_seconds()))
        self.lag.committed(report.newest)
        for event in report.traced:
            if event.heartbeat:
                log.info("heartbeat counted", extra=trace_fields(event))
            else:
                log.debug("counted", extra=trace_fields(event))

    async def watch_lag(self, stop: asyncio.Event) -> None:
        await self.lag.watch(self.consumer, stop, every_s=LAG_EVERY_S)


def publish_totals(producer: AIOKafkaProducer, topic: str) -> ChangeListener:
    async def publish(changed: list[CaseTotals]) -> None:
        for totals in changed:
            metrics.CASE_TOTAL.labels(totals.case_id).set(totals.total)
            for country, total in totals.by_country.items():
                metrics.CASE_TOTAL_BY_COUNTRY.labels(totals.case_id, country).set(total)
            for source, total in totals.by_source.items():  # key names: a bounded set
                metrics.CASE_TOTAL_BY_SOURCE.labels(totals.case_id, source).set(total)
        try:
            await send_all(producer, topic, [(t.case_id.encode(), encode(t)) for t in changed])
        except KafkaError as exc:  # the next change publishes the latest totals again
            log.warning("totals not published", extra={"error": type(exc).__name__})

    return publish
