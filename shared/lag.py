"""How far a consumer is behind, as operators read it: the records waiting per partition,
while any wait the age of the newest action it committed (0 when caught up), and how long
the records in its hands have waited for a commit (a stuck consumer)."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Gauge

from shared.positioned_consumer import PositionedConsumer

# The newest acceptance time of the batch being committed, per lane (each lane of a
# PositionedConsumer commits in a task of its own, and so in a context of its own).
_IN_FLIGHT: ContextVar[datetime | None] = ContextVar("lag_in_flight", default=None)


class ConsumerLag:
    """`plume_<service>_lag_records{partition}`, `plume_<service>_lag_seconds`,
    `plume_<service>_assigned_partitions` and `plume_<service>_stalled_seconds`; one per
    process and service."""

    def __init__(self, service: str) -> None:
        self.records, self.seconds, self.assigned, self.stalled = _gauges(service)
        self.last_accepted: datetime | None = None

    def committed(self, newest_accepted: datetime | None) -> None:
        """Call after each commit with the newest acceptance time of the batch (lanes
        commit in any order: an older one never moves it back)."""
        if newest_accepted is not None and (
            self.last_accepted is None or newest_accepted > self.last_accepted
        ):
            self.last_accepted = newest_accepted

    def in_flight(self, newest_accepted: datetime | None) -> None:
        """From inside a batch handler: becomes the committed time once the batch commits
        (pass `on_commit` as the PositionedConsumer's on_batch)."""
        _IN_FLIGHT.set(newest_accepted)

    def on_commit(self, records: int, seconds: float) -> None:
        self.committed(_IN_FLIGHT.get())

    def measure(self, consumer: PositionedConsumer[Any]) -> int:
        """Update the gauges; return the records waiting."""
        self.assigned.set(len(consumer.consumer.assignment()))
        self.stalled.set(consumer.progress.stalled_for())
        lag = consumer.lag()
        self.records.clear()
        for partition, waiting in lag.items():
            self.records.labels(str(partition)).set(waiting)
        waiting = sum(lag.values())
        if waiting == 0:
            self.seconds.set(0)
        elif self.last_accepted is not None:
            age = (datetime.now(UTC) - self.last_accepted).total_seconds()
            self.seconds.set(max(0.0, age))
        return waiting

    async def watch(
        self, consumer: PositionedConsumer[Any], stop: asyncio.Event, every_s: float = 1.0
    ) -> None:
        while not stop.is_set():
            self.measure(consumer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)


_GAUGES: dict[str, tuple[Gauge, Gauge, Gauge, Gauge]] = {}


def _gauges(service: str) -> tuple[Gauge, Gauge, Gauge, Gauge]:
    """Registered once per process: a service may build its consumer more than once."""
    if service not in _GAUGES:
        _GAUGES[service] = (
            Gauge(
                f"plume_{service}_lag_records",
                "Records not yet committed, per assigned partition",
                ["partition"],
            ),
            Gauge(
                f"plume_{service}_lag_seconds",
                "Age of the last committed action when records are waiting, else 0",
            ),
            Gauge(
                f"plume_{service}_assigned_partitions",
                "Partitions of the actions topic this process consumes",
            ),
            Gauge(
                f"plume_{service}_stalled_seconds",
                "How long the records in hand have waited for a commit (0 when none wait)",
            ),
        )
    return _GAUGES[service]
