"""Consume a topic with the positions kept in PostgreSQL (shared.positions), committed in
the same transaction as the effect of the records: a crash or rebalance replays at most
the uncommitted batch, and the handler's idempotence (ledgers) makes a replay harmless.

The next batch is fetched and decoded while the current one is in the database, so that
Python's work and PostgreSQL's overlap on two cores instead of taking turns. With
`lanes` > 1, a batch's partitions are shared out between that many transactions run at
once on their own connections (each partition's records in one of them): one lane's
Python work runs while another's statements do, and PostgreSQL executes them on two
cores. Each partition's position is only ever saved by the transaction holding its records,
so lanes commit in any order.

One bad record never stops a partition. A record that cannot be decoded, one the handler
refuses, and one on which the store fails permanently (shared.failures) are set aside in
the dead-letter topic, and the positions move past them. A batch costs one transaction
while all is well; only a batch that fails permanently is split in halves, committed half
by half, down to the records that fail alone. Transient failures are retried until they
pass or the consumer is stopped; `problem()` says when records have waited longer than
`stall_after_s` for a commit (readiness turns false)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeAlias, TypeVar, cast

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from shared.db import Conn
from shared.failures import PERMANENT_PYTHON_ERRORS, describe, is_permanent
from shared.positions import PositionStore, Record

log = logging.getLogger(__name__)

T = TypeVar("T")
Refusals: TypeAlias = "Sequence[tuple[Record, str]]"  # records to set aside, each with why
DECODE_SLICE = 250  # records decoded between two turns of the event loop (about 1 ms)
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 5.0


class Poison(NamedTuple):
    """What a record that cannot be decoded decodes to: why (never personal data)."""

    reason: str


class BatchHandler(Protocol[T]):
    """What a PositionedConsumer runs: `decode` on each record as soon as it is fetched
    (pure CPU, no I/O: it runs while the previous batch is in the database; a ValueError
    sets the record aside), then the call with the batch's records and their decodings,
    inside the transaction that also saves the positions, which returns the records it
    refuses, with why. The call must be idempotent: a batch may be replayed."""

    def decode(self, record: Record) -> T: ...

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, T]]) -> Refusals: ...


class DeadLetterSink(Protocol):
    async def send(self, refused: Refusals) -> None:
        """Return once every letter is durable (acks=all); raise otherwise."""


class Progress:
    """Since when records have waited for a commit, the last failure meanwhile, and why
    the consumer ended if it did on an error."""

    def __init__(self) -> None:
        self.waiting_since: float | None = None
        self.last_error: str | None = None
        self.crashed: str | None = None

    def waiting(self) -> None:
        self.waiting_since = time.monotonic()

    def done(self) -> None:
        self.waiting_since, self.last_error = None, None

    def stalled_for(self) -> float:
        return 0.0 if self.waiting_since is None else time.monotonic() - self.waiting_since


class InFlight:
    """How many commits run now (one per lane at most): a rebalance waits for none."""

    def __init__(self) -> None:
        self.running = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __aenter__(self) -> None:
        self.running += 1
        self.idle.clear()

    async def __aexit__(self, *exc: object) -> None:
        self.running -= 1
        if not self.running:
            self.idle.set()


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: PositionedConsumer[Any]) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.runner.processing.idle.wait()  # let the batches in flight commit first

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.runner.seek_to_stored(assigned)


class PositionedConsumer(Generic[T]):
    """Runs `handle` on each fetched batch inside one transaction that also saves the
    positions after it (see the module's docstring for what happens on failures)."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        pool: asyncpg.Pool,
        store: PositionStore,
        topic: str,
        handle: BatchHandler[T],
        dead_letters: DeadLetterSink,
        max_records: int = 5_000,
        stall_after_s: float = 60.0,
        lanes: int = 1,
    ) -> None:
        self.consumer = consumer
        self.pool = pool
        self.store = store
        self.topic = topic
        self.handle = handle
        self.dead_letters = dead_letters
        self.max_records = max_records
        self.stall_after_s = stall_after_s
        self.lanes = lanes
        self.processing = InFlight()
        self.progress = Progress()
        self.on_batch: Callable[[int, float], None] | None = None
        self.committed: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=_SeekToStored(self))

    async def seek_to_stored(self, partitions: set[TopicPartition]) -> None:
        """Partitions without a stored position start from the earliest record through
        auto_offset_reset; an explicit seek_to_beginning here races the first fetch."""
        async with self.pool.acquire() as conn:
            stored = await self.store.load(conn, self.topic)
        for tp in partitions:
            self.committed.pop(tp, None)
            if tp.partition in stored:
                self.consumer.seek(tp, stored[tp.partition])
                self.committed[tp] = stored[tp.partition]

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`. Run again after a run that died (a supervisor restarts
        it), it resumes from the stored positions: what the dead run had fetched but not
        committed is fetched again, never skipped."""
        self.progress.crashed = None
        await self._resume_from_stored()
        ahead: asyncio.Task[list[list[tuple[Record, T | Poison]]]] | None = None
        try:
            while not stop.is_set():
                lanes = await (ahead or self._fetch())
                # Cancelling a fetch can lose records from this consumer's view; that
                # only happens when it stops, and the stored positions are the truth.
                ahead = asyncio.create_task(self._fetch())
                if lanes:
                    await self._process_lanes(lanes, stop)
        except Exception as exc:
            self.progress.crashed = describe(exc)
            raise
        finally:
            if ahead:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)

    async def _resume_from_stored(self) -> None:
        """Seek the partitions this consumer holds back to their stored positions, and
        those without one to their beginning (auto_offset_reset's earliest: no fetch runs
        now to race it). Nothing to do before the first assignment."""
        assigned = self.consumer.assignment()
        if not assigned:
            return
        await self.seek_to_stored(assigned)
        unstored = [tp for tp in assigned if tp not in self.committed]
        if unstored:
            await self.consumer.seek_to_beginning(*unstored)

    def problem(self) -> str | None:
        """Why this consumer is not doing its job now, or None."""
        if self.progress.crashed:
            return f"the consumer of {self.topic} stopped: {self.progress.crashed}"
        waited = self.progress.stalled_for()
        if waited <= self.stall_after_s:
            return None
        error = self.progress.last_error or "none, a commit is still running"
        return (
            f"the consumer of {self.topic} has committed nothing for {waited:.0f} s "
            f"while records wait (last error: {error})"
        )

    async def _fetch(self) -> list[list[tuple[Record, T | Poison]]]:
        """The next batch, decoded, its partitions shared out between the lanes (the
        largest first, each to the lane with the fewest records so far); no empty lane."""
        batches = await self.consumer.getmany(timeout_ms=200, max_records=self.max_records)
        decode = self.handle.decode
        lanes: list[list[tuple[Record, T | Poison]]] = [[] for _ in range(self.lanes)]
        parts = (
            sorted(batches.values(), key=len, reverse=True) if self.lanes > 1 else batches.values()
        )
        for records in parts:
            decoded = min(lanes, key=len)
            for start in range(0, len(records), DECODE_SLICE):
                for r in records[start : start + DECODE_SLICE]:
                    try:
                        decoded.append((r, decode(r)))
                    except PERMANENT_PYTHON_ERRORS as exc:  # pydantic's included
                        decoded.append((r, Poison(describe(exc))))
                # Let the batch in flight take its next step in between: decoding in one
                # go would hold it (a 1 ms round trip becomes 20 ms) instead of filling
                # the time PostgreSQL spends on it.
                await asyncio.sleep(0)
        return [lane for lane in lanes if lane]

    async def _process_lanes(
        self, lanes: list[list[tuple[Record, T | Poison]]], stop: asyncio.Event
    ) -> None:
        """Each lane's records committed by its own transaction, all at once (each lane in
        a task of its own: what a handler keeps per batch in a ContextVar stays its lane's)."""
        self.progress.waiting()
        try:
            await asyncio.gather(*(self._process_until_done(lane, stop) for lane in lanes))
        finally:
            self.progress.done()

    async def _process_until_done(
        self, items: list[tuple[Record, T | Poison]], stop: asyncio.Event
    ) -> None:
        """Commit `items`, retrying after transient failures (a growing pause that `stop`
        cuts short) until done or stopped; the stored positions say where to resume."""
        delay = RETRY_FIRST_S
        while not stop.is_set():
            try:
                await self._commit_isolating(items)
                return
            except Exception as exc:  # the database, Kafka, or a bug: never the records
                self.progress.last_error = error = describe(exc)
                log.warning("batch not committed, will retry", extra={"error": error})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, RETRY_MAX_S)

    async def _commit_isolating(self, items: Sequence[tuple[Record, T | Poison]]) -> None:
        """Commit `items`; if they fail permanently, commit each half in turn (left first,
        so positions only move forward), and set aside a record that fails alone."""
        try:
            await self._commit(items)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            if len(items) == 1:
                await self._set_aside(items[0][0], describe(exc))
                return
            log.debug("a batch failed permanently: halving it", extra={"records": len(items)})
            middle = len(items) // 2
            await self._commit_isolating(items[:middle])
            await self._commit_isolating(items[middle:])

    async def _commit(self, items: Sequence[tuple[Record, T | Poison]]) -> None:
        async with self.processing:
            started = time.perf_counter()
            positions, good, poison = self._still_to_commit(items)
            if not positions:
                return
            async with self.pool.acquire() as conn, conn.transaction():
                refused = await self.handle(conn, cast("Sequence[tuple[Record, T]]", good))
                if poison or refused:  # durable before the positions move past them
                    await self.dead_letters.send([*poison, *refused])
                await self.store.save(conn, positions)
            self.committed.update(positions)
            self.progress.waiting()  # progress made: what is left waits from now
        if self.on_batch:
            self.on_batch(len(good) + len(poison), time.perf_counter() - started)

    def _still_to_commit(
        self, items: Sequence[tuple[Record, T | Poison]]
    ) -> tuple[
        dict[TopicPartition, int], list[tuple[Record, T | Poison]], list[tuple[Record, str]]
    ]:
        """Records of a prefetched batch may have been revoked, or committed by another
        consumer and reassigned, since the fetch: they are left out. Of the others: the
        positions after them, the decoded items (the batch's own tuples: ten thousand
        new ones per batch would cost the collector) and the poison with why."""
        assigned, committed = self.consumer.assignment(), self.committed
        positions: dict[TopicPartition, int] = {}
        good: list[tuple[Record, T | Poison]] = []
        poison: list[tuple[Record, str]] = []
        # A lane's records come partition by partition: each one's facts looked up once
        # (once per record, they took about 4 % of delivery's CPU).
        tp, first_new = None, -1
        for item in items:
            record, value = item
            if tp is None or record.partition != tp.partition or record.topic != tp.topic:
                tp = TopicPartition(record.topic, record.partition)
                first_new = committed.get(tp, 0) if tp in assigned else -1
            if first_new < 0 or record.offset < first_new:
                continue
            positions[tp] = record.offset + 1
            if isinstance(value, Poison):
                poison.append((record, value.reason))
            else:
                good.append(item)
        return positions, good, poison

    async def _set_aside(self, record: Record, error: str) -> None:
        tp = TopicPartition(record.topic, record.partition)
        async with self.processing:
            if not self._is_new(record, self.consumer.assignment()):
                return
            await self.dead_letters.send([(record, error)])
            async with self.pool.acquire() as conn, conn.transaction():
                await self.store.save(conn, {tp: record.offset + 1})
            self.committed[tp] = record.offset + 1
            self.progress.waiting()
        log.warning(
            "record set aside in the dead-letter topic",
            extra={"partition": record.partition, "offset": record.offset, "error": error},
        )

    def _is_new(self, record: Record, assigned: set[TopicPartition]) -> bool:
        """Still ours, and not behind what is already committed (a fetch that raced a seek)."""
        tp = TopicPartition(record.topic, record.partition)
        return tp in assigned and record.offset >= self.committed.get(tp, 0)

    def lag(self) -> dict[int, int]:
        """Records not yet committed, per assigned partition, as of the last fetch."""
        result: dict[int, int] = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is not None and tp in self.committed:
                result[tp.partition] = max(0, high - self.committed[tp])
        return result

    async def stop(self) -> None:
        await self.consumer.stop()
