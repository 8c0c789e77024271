"""ActionPublisher on Kafka: concurrent requests hand their events to one sender task, which
writes whatever has gathered as one record batch per partition and wakes each request when
every batch holding its events is acknowledged. (Each request awaiting its own send() would
wake all waiters for every batch; building batches directly also skips per-record work.)"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.intake import metrics
from services.intake.domain.ports import PublishUnavailable
from shared.contracts.action_record import ActionRecord, kafka_record

log = logging.getLogger(__name__)
WAIT_SLICE_S = 0.1


@dataclass
class _Request:
    records: list[tuple[bytes, bytes]]
    done: asyncio.Future[None]
    started: float = field(default_factory=time.perf_counter)
    waiting_batches: int = 0
    timer: asyncio.TimerHandle | None = None


class KafkaActionPublisher:
    def __init__(
        self, producer: AIOKafkaProducer, topic: str, timeout_s: float, retry_after_s: float
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self._queue: list[_Request] = []
        self._wakeup = asyncio.Event()
        self._failing_until = 0.0
        self._last_acknowledged = float("-inf")  # perf_counter() of the latest acknowledgement
        self._partitions: list[int] = []

    async def start(self) -> None:
        """Learn the topic's partitions; `run()` (on the supervisor) then does the writing."""
        self._partitions = sorted(await self.producer.partitions_for(self.topic))

    def available(self) -> bool:
        return time.monotonic() >= self._failing_until

    def refusing_for_s(self) -> float:
        """How long writes are still answered 503 at once after a failure (0 when not)."""
        return max(0.0, self._failing_until - time.monotonic())

    def _failed(self, reason: str) -> None:
        metrics.PRODUCE_FAILURES.labels(reason).inc()
        self._failing_until = time.monotonic() + self.retry_after_s

    def _timed_out(self, request: _Request) -> None:
        """Hold further writes off only when Kafka took none while this one waited: a
        partition whose leader is moving (a broker restarting) slows its own writes, and
        refusing every partition's for `retry_after_s` would turn one slow write into
        hundreds of refusals while the others are acknowledged as usual."""
        if self._last_acknowledged > request.started:
            metrics.PRODUCE_FAILURES.labels("timeout_while_others_acknowledged").inc()
        else:
            self._failed("timeout")

    def _note_acknowledged(self, future: asyncio.Future[object]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._last_acknowledged = time.perf_counter()

    async def publish(self, events: Sequence[ActionRecord]) -> None:
        await self.write([kafka_record(event) for event in events])

    async def write(self, records: list[tuple[bytes, bytes]]) -> None:
        """`publish` for events already encoded: (Kafka key, value) each."""
        if not self.available():
            raise PublishUnavailable("recent writes failed")
        request = _Request(records, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._wakeup.set()
        try:
            await self._acknowledged(request)
        except TimeoutError:
            self._timed_out(request)
            raise PublishUnavailable("Kafka did not acknowledge in time") from None
        except Exception as exc:  # whatever the producer raised, the write is not durable
            self._failed(type(exc).__name__)
            raise PublishUnavailable(type(exc).__name__) from None
        metrics.PRODUCE_LATENCY.observe(time.perf_counter() - request.started)

    async def _acknowledged(self, request: _Request) -> None:
        """Wait for the request's acknowledgement for `timeout_s` of the event loop's own
        time, counted by a timer in slices: a slice the loop spent blocked (decoding a large
        batch, say) counts only its length, for an acknowledgement that came meanwhile could
        not be read yet. A busy loop must never make Kafka look down. (One timer per slice,
        not `asyncio.timeout` around a shielded wait: those cost 5-6 % of a single POST's CPU
        in the profile.) A waiter cancelled meanwhile cancels `done`, which the sender and
        the timer skip, as they skip every settled request."""
        self._time_slice(request, 0.0)
        try:
            await request.done
        finally:
            if request.timer is not None:
                request.timer.cancel()

    def _time_slice(self, request: _Request, waited: float) -> None:
        if request.done.done():
            return
        if waited >= self.timeout_s:
            request.done.set_exception(TimeoutError())
            return
        step = min(WAIT_SLICE_S, self.timeout_s - waited)
        loop = asyncio.get_running_loop()
        request.timer = loop.call_later(step, self._time_slice, request, waited + step)

    async def run(self) -> None:
        """The sender: writes whatever requests have gathered, until cancelled. Requests it
        was writing when cancelled time out and are answered 503 (their retry counts once)."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            pending, self._queue = self._queue, []
            try:
                await self._send(pending)
            except Exception as exc:
                log.warning("write to Kafka failed", extra={"error": type(exc).__name__})
                for request in pending:
                    _fail(request, exc)

    async def _send(self, pending: list[_Request]) -> None:
        by_partition: dict[int, list[tuple[_Request, bytes, bytes]]] = defaultdict(list)
        count = len(self._partitions)
        for request in pending:
            for key, value in request.records:
                partition = self._partitions[zlib.crc32(key) % count]
                by_partition[partition].append((request, key, value))
        # Every batch is built (and counted against its requests) before any is sent, so
        # an early acknowledgement cannot wake a request that still has batches to go.
        batches = {p: self._build(records) for p, records in by_partition.items()}
        await asyncio.gather(*(self._send_in_order(p, b) for p, b in batches.items()))

    def _build(self, records: list[tuple[_Request, bytes, bytes]]) -> list[_Batch]:
        batches: list[_Batch] = []
        while records:
            batch = _Batch(self.producer.create_batch(), [])
            taken = 0
            for request, key, value in records:
                if batch.builder.append(key=key, value=value, timestamp=None) is None:
                    break
                taken += 1
                if not batch.members or batch.members[-1] is not request:
                    batch.members.append(request)
                    request.waiting_batches += 1
            if taken == 0:
                raise ValueError("a record larger than a whole batch")
            records = records[taken:]
            batches.append(batch)
        return batches

    async def _send_in_order(self, partition: int, batches: list[_Batch]) -> None:
        for batch in batches:
            future = await self.producer.send_batch(batch.builder, self.topic, partition=partition)
            future.add_done_callback(self._note_acknowledged)
            future.add_done_callback(lambda acked, members=batch.members: _settle(acked, members))


@dataclass
class _Batch:
    builder: Any
    members: list[_Request]


def _settle(future: asyncio.Future[object], members: list[_Request]) -> None:
    error = None if future.cancelled() else future.exception()
    for request in members:
        if error is not None or future.cancelled():
            _fail(request, error or KafkaError("batch cancelled"))
            continue
        request.waiting_batches -= 1
        if request.waiting_batches == 0 and not request.done.done():
            request.done.set_result(None)


def _fail(request: _Request, error: BaseException) -> None:
    if not request.done.done():
        request.done.set_exception(error)
        # Mark it retrieved: the request may have given up waiting already.
        request.done.add_done_callback(lambda done: done.exception())
