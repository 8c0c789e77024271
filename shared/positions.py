"""Consume a topic with the consumer's positions kept in PostgreSQL, committed in the
same transaction as the effect of the records: a crash or rebalance replays at most the
uncommitted batch, and the handler's idempotence (ledgers) makes a replay harmless.

The next batch is fetched and decoded while the current one is in the database, so
that Python's work and PostgreSQL's overlap on two cores instead of taking turns."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.db import Conn, lock_schema

log = logging.getLogger(__name__)

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
T = TypeVar("T")
DECODE_SLICE = 250  # records decoded between two turns of the event loop (about 1 ms)


class BatchHandler(Protocol[T]):
    """What a PositionedConsumer runs: `decode` on each record as soon as it is fetched
    (pure CPU, no I/O: it runs while the previous batch is in the database), then the
    call with the batch's records and their decodings, inside the transaction that also
    saves the positions. The call must be idempotent: a batch may be replayed."""

    def decode(self, record: Record) -> T: ...

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, T]]) -> None: ...


POSITIONS_DDL = """
CREATE TABLE IF NOT EXISTS "{schema}".consumer_positions (
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
)"""


class PositionStore:
    """Positions (next offset to read) per topic partition, in a service's own schema."""

    def __init__(self, schema: str) -> None:
        self.table = f'"{schema}".consumer_positions'
        self.schema = schema

    async def create(self, conn: Conn) -> None:
        """Create the table if missing; safe when two consumers of one service start at once."""
        async with conn.transaction():
            await lock_schema(conn, self.schema)
            await conn.execute(POSITIONS_DDL.format(schema=self.schema))

    async def load(self, conn: Conn, topic: str) -> dict[int, int]:
        rows = await conn.fetch(
            f"SELECT partition, next_offset FROM {self.table} WHERE topic = $1", topic
        )
        return {r["partition"]: r["next_offset"] for r in rows}

    async def save(self, conn: Conn, positions: dict[TopicPartition, int]) -> None:
        """Record positions; the caller's transaction makes them atomic with its effect.
        GREATEST keeps a late writer (a consumer that lost the partition) from moving back."""
        await conn.executemany(
            f"INSERT INTO {self.table} (topic, partition, next_offset) VALUES ($1, $2, $3) "
            "ON CONFLICT (topic, partition) DO UPDATE SET "
            "next_offset = GREATEST(EXCLUDED.next_offset, consumer_positions.next_offset), "
            "updated_at = now()",
            [(tp.topic, tp.partition, offset) for tp, offset in positions.items()],
        )


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: PositionedConsumer[Any]) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.runner.processing:  # let the batch in flight commit first
            pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.runner.seek_to_stored(assigned)


class PositionedConsumer(Generic[T]):
    """Runs `handle` on each fetched batch inside one transaction that also saves the
    positions after it. On failure nothing is saved and the same batch is tried again
    once the database answers."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        pool: asyncpg.Pool,
        store: PositionStore,
        topic: str,
        handle: BatchHandler[T],
        max_records: int = 5_000,
    ) -> None:
        self.consumer = consumer
        self.pool = pool
        self.store = store
        self.topic = topic
        self.handle = handle
        self.max_records = max_records
        self.processing = asyncio.Lock()
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
        ahead: asyncio.Task[list[tuple[Record, T]]] | None = None
        try:
            while not stop.is_set():
                batch = await (ahead or self._fetch())
                # Cancelling a fetch can lose records from this consumer's view; that
                # only happens when it stops, and the stored positions are the truth.
                ahead = asyncio.create_task(self._fetch())
                if batch:
                    await self._process_until_done(batch)
        finally:
            if ahead:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)

    async def _fetch(self) -> list[tuple[Record, T]]:
        batches = await self.consumer.getmany(timeout_ms=200, max_records=self.max_records)
        decode = self.handle.decode
        decoded: list[tuple[Record, T]] = []
        for records in batches.values():
            for start in range(0, len(records), DECODE_SLICE):
                decoded.extend((r, decode(r)) for r in records[start : start + DECODE_SLICE])
                # Let the batch in flight take its next step in between: decoding in one
                # go would hold it (a 1 ms round trip becomes 20 ms) instead of filling
                # the time PostgreSQL spends on it.
                await asyncio.sleep(0)
        return decoded

    async def _process_until_done(self, records: list[tuple[Record, T]]) -> None:
        delay = 0.1
        while True:
            try:
                async with self.processing:
                    await self._commit_batch(records)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("batch not committed, will retry", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _commit_batch(self, batch: list[tuple[Record, T]]) -> None:
        """Records of a prefetched batch may have been revoked, or committed by another
        consumer and reassigned, since the fetch: the filter drops them."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        assigned = self.consumer.assignment()
        mine = [item for item in batch if self._is_new(item[0], assigned)]
        if not mine:
            return
        positions: dict[TopicPartition, int] = {}
        for r, _ in mine:
            positions[TopicPartition(r.topic, r.partition)] = r.offset + 1
        async with self.pool.acquire() as conn, conn.transaction():
            await self.handle(conn, mine)
            await self.store.save(conn, positions)
        self.committed.update(positions)
        if self.on_batch:
            self.on_batch(len(mine), loop.time() - started)

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
