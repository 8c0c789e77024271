"""Consume a topic with the positions kept in PostgreSQL (shared.positions), committed in
the same transaction as the effect of the records: a crash or rebalance replays at most
the uncommitted batch, and the handler's idempotence (ledgers) makes a replay harmless.

Records are fetched and decoded while earlier ones are in the database, so that
Python's work and PostgreSQL's overlap on two cores instead of taking turns. With
`lanes` > 1, that many transactions run at once on their own connections, each lane
holding some of the partitions (shared.consumer_lanes) and committing their records in
the order fetched: one lane's Python work runs while another's statements do, and
PostgreSQL executes them on two cores. A lane takes its next records as soon as it has
committed the last, whatever the others are doing (a million signatures were stored
in 8 % less time than when every lane waited for the slowest of a batch). Each
partition's position is only ever saved by the lane holding its records, so lanes commit
in any order. A rebalance first lets the lanes commit what they hold, and hands them
nothing new until the assignment is known.

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

from shared.consumer_lanes import Inbox, LaneMap, Unsettled
from shared.db import Conn
from shared.failures import PERMANENT_PYTHON_ERRORS, describe, is_permanent
from shared.loops import any_set
from shared.positions import PositionStore, Record

log = logging.getLogger(__name__)

T = TypeVar("T")
Refusals: TypeAlias = "Sequence[tuple[Record, str]]"  # records to set aside, each with why
Chunk: TypeAlias = "list[tuple[Record, T | Poison]]"  # records of a lane, decoded
LaneInbox: TypeAlias = "Inbox[tuple[Record, T | Poison]]"  # a lane's next chunk, waiting
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


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: PositionedConsumer[Any]) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.runner.hold_and_settle()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.runner.seek_to_stored(assigned)
        self.runner.release()


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
        self.progress = Progress()
        self.lane_map = LaneMap(lanes)
        self.unsettled = Unsettled()
        self.open = asyncio.Event()  # cleared while the group rebalances
        self.open.set()
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
        self.lane_map.forget()
        await self._resume_from_stored()
        inboxes: list[LaneInbox[T]] = [Inbox(self.max_records) for _ in range(self.lanes)]
        try:
            async with asyncio.TaskGroup() as group:
                for inbox in inboxes:
                    group.create_task(self._lane(inbox, stop))
                group.create_task(self._feed(inboxes, stop))
        except BaseExceptionGroup as failed:
            error = failed.exceptions[0]
            self.progress.crashed = describe(error)
            raise error from None
        finally:
            self.unsettled.reset()  # what waited is gone with the inboxes

    async def hold_and_settle(self) -> None:
        """Hand the lanes nothing new, and return once they have done with what they
        hold (committed): a rebalance then moves no partition with work in flight."""
        self.open.clear()
        await self.unsettled.settled.wait()

    def release(self) -> None:
        """After an assignment: partitions may change lanes when none holds work (after
        a revocation, none does), and new work flows again."""
        if self.unsettled.settled.is_set():
            self.lane_map.forget()
        self.open.set()

    async def _feed(self, inboxes: list[LaneInbox[T]], stop: asyncio.Event) -> None:
        """Fetch and decode, then hand each lane the records of its partitions, waiting
        while a lane has a full chunk waiting; at a stop, tell the lanes."""
        while not stop.is_set():
            fetched = await self._fetch()
            # Fetched before or during a rebalance: handed out after it; records no
            # longer ours, or committed by another consumer meanwhile, are left out then.
            await any_set((self.open, stop))
            chunks: list[Chunk[T]] = [[] for _ in inboxes]
            for records in fetched:
                chunks[self.lane_map.lane_of(records[0][0].partition)].extend(records)
            for inbox, chunk in zip(inboxes, chunks, strict=True):
                if chunk:
                    if self.unsettled.add(len(chunk)):
                        self.progress.waiting()
                    await inbox.put(chunk)
        for inbox in inboxes:
            inbox.close()

    async def _lane(self, inbox: LaneInbox[T], stop: asyncio.Event) -> None:
        """Commit the chunks of `inbox` one after the other, until told to end."""
        while (chunk := await inbox.take()) is not None:
            try:
                # A task of its own for each chunk: what a handler keeps per batch in a
                # ContextVar stays that batch's.
                await asyncio.create_task(self._process_until_done(chunk, stop))
            finally:
                if self.unsettled.done(len(chunk)):
                    self.progress.done()

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

    async def _fetch(self) -> list[Chunk[T]]:
        """The next records, decoded, one list per partition (none empty)."""
        batches = await self.consumer.getmany(timeout_ms=200, max_records=self.max_records)
        decode = self.handle.decode
        fetched: list[Chunk[T]] = []
        for records in batches.values():
            decoded: Chunk[T] = []
            for start in range(0, len(records), DECODE_SLICE):
                for r in records[start : start + DECODE_SLICE]:
                    try:
                        decoded.append((r, decode(r)))
                    except PERMANENT_PYTHON_ERRORS as exc:  # pydantic's included
                        decoded.append((r, Poison(describe(exc))))
                # Let the lanes take their next steps in between: decoding in one go
                # would hold them (a 1 ms round trip becomes 20 ms) instead of filling
                # the time PostgreSQL spends on their statements.
                await asyncio.sleep(0)
            if decoded:
                fetched.append(decoded)
        return fetched

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
