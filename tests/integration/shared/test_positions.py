"""PositionedConsumer against the real Kafka and PostgreSQL: effects and positions are
committed together, so a restarted consumer resumes where the last commit left it; a
record the store refuses for good is set aside in the dead-letter topic and the rest
committed; transient failures are retried, reported when they last, and never hold a
stop. With lanes, a batch's partitions are committed by transactions running at once, with
the same guarantees."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Sequence
from functools import partial
from uuid import uuid4

import asyncpg
import pytest

from shared.db import Conn, create_pool
from shared.dead_letters import KafkaDeadLetters
from shared.kafka import durable_producer, manual_consumer
from shared.positioned_consumer import PositionedConsumer, Refusals
from shared.positions import PositionStore, Record
from shared.settings import InfraSettings
from tests.integration.shared.conftest import own_topic
from tests.readback import read_dead_letters
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
INFRA = InfraSettings()


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    async with own_topic("positions", 4) as name:
        yield name


@pytest.fixture
async def dlq() -> AsyncIterator[str]:
    async with own_topic("positions-dlq", 1) as name:
        yield name


@pytest.fixture
async def schema() -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    name = f"test_positions_{uuid4().hex[:12]}"
    pool = await create_pool(INFRA.database_url)
    async with pool.acquire() as conn:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        # values starting with "bad" break a constraint: a record the store refuses for good
        await conn.execute(
            f'CREATE TABLE "{name}".seen (value text PRIMARY KEY CHECK (value NOT LIKE $$bad%$$))'
        )
        await PositionStore(name).create(conn)
    yield pool, name
    async with pool.acquire() as conn:
        await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    await pool.close()


async def produce(topic: str, values: list[str]) -> None:
    producer = durable_producer(INFRA.kafka_bootstrap, "test")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=v.encode(), value=v.encode()) for v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


class Recorder:
    """Writes each record's value; fails the first `fail_first` batches after writing
    (with `error`, transient by default)."""

    def __init__(self, schema: str, fail_first: int = 0, error: Exception | None = None) -> None:
        self.schema = schema
        self.fail_first = fail_first
        self.error = error or OSError("simulated failure after writing, before commit")
        self.calls = 0

    @staticmethod
    def decode(record: Record) -> str:
        return (record.value or b"").decode()

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, str]]) -> Refusals:
        self.calls += 1
        # A plain INSERT (no ON CONFLICT): a replayed record would raise here.
        await conn.executemany(
            f'INSERT INTO "{self.schema}".seen (value) VALUES ($1)', [(v,) for _, v in batch]
        )
        if self.calls <= self.fail_first:
            raise self.error
        return []


class NoDeadLetters:
    async def send(self, refused: Refusals) -> None:
        raise AssertionError(f"nothing should be set aside here: {refused}")


class Consuming:
    """A PositionedConsumer running in a task, with its dead letters and batch count."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        topic: str,
        handle: Recorder,
        group: str | None = None,
        dlq: str | None = None,
        lanes: int = 1,
    ) -> None:
        self.group = group = group or f"g-{uuid4().hex[:8]}"
        self.producer = durable_producer(INFRA.kafka_bootstrap, "test-dlq")
        sink = KafkaDeadLetters(self.producer, dlq, group, "test") if dlq else NoDeadLetters()
        self.consumer = PositionedConsumer(
            manual_consumer(INFRA.kafka_bootstrap, group, "test"),
            pool,
            PositionStore(schema),
            topic,
            handle,
            sink,
            stall_after_s=0.5,
            lanes=lanes,
        )
        self.batches = 0
        self.consumer.on_batch = self._count
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def _count(self, records: int, seconds: float) -> None:
        self.batches += 1

    async def __aenter__(self) -> Consuming:
        await self.producer.start()
        await self.consumer.start()
        self.task = asyncio.create_task(self.consumer.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 5)
        await self.consumer.stop()
        await self.producer.stop()


async def consume_until(
    pool: asyncpg.Pool, schema: str, topic: str, handle: Recorder, expected: int, group: str
) -> None:
    async with Consuming(pool, schema, topic, handle, group):
        await wait_until(
            lambda: pool.fetchval(f'SELECT count(*) FROM "{schema}".seen'),
            lambda seen: seen >= expected,
        )


async def test_restart_resumes_from_positions_in_postgres(
    topic: str, schema: tuple[asyncpg.Pool, str]
) -> None:
    pool, name = schema
    group = f"g-{uuid4().hex[:8]}"
    await produce(topic, [f"a{i}" for i in range(300)])
    handle = Recorder(name)
    await consume_until(pool, name, topic, handle, 300, group)
    await produce(topic, [f"b{i}" for i in range(200)])
    await consume_until(pool, name, topic, handle, 500, group)
    assert await pool.fetchval(f'SELECT count(*) FROM "{name}".seen') == 500
    stored = await pool.fetchval(f'SELECT sum(next_offset) FROM "{name}".consumer_positions')
    assert stored == 500


@pytest.mark.parametrize("lanes", [1, 2])
async def test_failed_batch_commits_nothing_and_is_retried(
    topic: str, schema: tuple[asyncpg.Pool, str], lanes: int
) -> None:
    pool, name = schema
    await produce(topic, [f"c{i}" for i in range(50)])
    handle = Recorder(name, fail_first=2)
    async with Consuming(pool, name, topic, handle, lanes=lanes):
        await wait_until(lambda: committed_offsets(pool, name), lambda n: n == 50)
    assert handle.calls >= 3
    assert await pool.fetchval(f'SELECT count(*) FROM "{name}".seen') == 50


class Meeting(Recorder):
    """A Recorder whose batches wait a little (until two have met) for another one to be
    in a transaction at the same time, alone a batch goes on; it counts the most seen
    at once."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.inside = self.most = 0
        self.met = asyncio.Event()

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, str]]) -> Refusals:
        self.inside += 1
        self.most = max(self.most, self.inside)
        if self.inside > 1:
            self.met.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.met.wait(), 0.5)
            return await super().__call__(conn, batch)
        finally:
            self.inside -= 1


@pytest.mark.parametrize("lanes", [1, 2])
async def test_lanes_commit_a_batchs_partitions_at_once_each_record_once(
    topic: str, schema: tuple[asyncpg.Pool, str], lanes: int
) -> None:
    pool, name = schema
    values = [f"l{i}" for i in range(2_000)]  # over the topic's 4 partitions
    await produce(topic, values)
    handle = Meeting(name)
    async with Consuming(pool, name, topic, handle, lanes=lanes) as running:
        await wait_until(lambda: committed_offsets(pool, name), lambda n: n == len(values))
    assert handle.most == lanes, "one transaction per lane, all at once"
    assert handle.calls == running.batches
    stored = [r["value"] for r in await pool.fetch(f'SELECT value FROM "{name}".seen')]
    assert sorted(stored) == sorted(values)  # the plain INSERT refuses a value seen twice


class Gated(Recorder):
    """A Recorder whose batches holding a value that starts with "slow" wait for `gate`."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.gate, self.held = asyncio.Event(), asyncio.Event()

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, str]]) -> Refusals:
        if any(value.startswith("slow") for _, value in batch):
            self.held.set()
            await self.gate.wait()
        return await super().__call__(conn, batch)


async def produce_to(topic: str, partition: int, values: list[str]) -> None:
    producer = durable_producer(INFRA.kafka_bootstrap, "test")
    await producer.start()
    try:
        sent = [await producer.send(topic, value=v.encode(), partition=partition) for v in values]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_a_slow_lane_does_not_hold_the_others(
    topic: str, schema: tuple[asyncpg.Pool, str]
) -> None:
    """Partitions 0 and 1 go to different lanes: while partition 0's transaction waits,
    records that reach partition 1 afterwards are committed all the same."""
    pool, name = schema
    await produce_to(topic, 0, ["slow"])
    await produce_to(topic, 1, ["first"])
    handle = Gated(name)
    seen = partial(pool.fetchval, f'SELECT count(*) FROM "{name}".seen')
    async with Consuming(pool, name, topic, handle, lanes=2):
        await asyncio.wait_for(handle.held.wait(), 30)
        await wait_until(seen, lambda n: n == 1)
        later = [f"later{i}" for i in range(100)]
        await produce_to(topic, 1, later)
        await wait_until(seen, lambda n: n == 1 + len(later))
        assert not handle.gate.is_set() and handle.held.is_set()
        handle.gate.set()
        await wait_until(lambda: committed_offsets(pool, name), lambda n: n == 2 + len(later))
    stored = [r["value"] for r in await pool.fetch(f'SELECT value FROM "{name}".seen')]
    assert sorted(stored) == sorted(["slow", "first", *later])


@pytest.mark.parametrize("lanes", [1, 2])
async def test_records_the_store_refuses_are_set_aside_and_the_rest_committed(
    topic: str, dlq: str, schema: tuple[asyncpg.Pool, str], lanes: int
) -> None:
    pool, name = schema
    values = [f"d{i}" for i in range(400)]
    bad = {37: "bad-check", 200: "bad-again", 201: "nul\x00byte", 399: "bad-last"}
    for index, value in bad.items():
        values[index] = value  # a CHECK violation (23514), a NUL byte (22021)
    await produce(topic, values)
    async with Consuming(pool, name, topic, Recorder(name), dlq=dlq, lanes=lanes) as running:
        await wait_until(lambda: committed_offsets(pool, name), lambda n: n == len(values))
    stored = {r["value"] for r in await pool.fetch(f'SELECT value FROM "{name}".seen')}
    assert stored == set(values) - set(bad.values())
    letters = await read_dead_letters(INFRA.kafka_bootstrap, dlq)
    assert sorted(base64.b64decode(d.value_base64 or "").decode() for d in letters) == sorted(
        bad.values()
    )
    errors = {base64.b64decode(d.value_base64 or "").decode(): d.error for d in letters}
    assert errors["bad-check"].startswith("CheckViolationError [23514] table seen")
    assert errors["nul\x00byte"].startswith("CharacterNotInRepertoireError [22021]")
    assert all("bad" not in error and "nul" not in error for error in errors.values())
    assert {(d.topic, d.consumer) for d in letters} == {(topic, running.group)}


async def test_one_transaction_per_batch_while_all_is_well(
    topic: str, schema: tuple[asyncpg.Pool, str]
) -> None:
    pool, name = schema
    await produce(topic, [f"e{i}" for i in range(2_000)])
    handle = Recorder(name)
    async with Consuming(pool, name, topic, handle) as running:
        await wait_until(lambda: committed_offsets(pool, name), lambda n: n == 2_000)
    assert handle.calls == running.batches
    assert running.batches < 2_000 // 50, "records are committed in batches, not one by one"


@pytest.mark.parametrize("lanes", [1, 2])
async def test_transient_failures_are_retried_reported_when_lasting_and_never_hold_a_stop(
    topic: str, schema: tuple[asyncpg.Pool, str], lanes: int
) -> None:
    pool, name = schema
    await produce(topic, [f"f{i}" for i in range(20)])
    for error in (OSError("connection lost"), TypeError("a bug is no record's fault")):
        handle = Recorder(name, fail_first=10**6, error=error)
        async with Consuming(pool, name, topic, handle, lanes=lanes) as running:
            problem = await wait_until(
                lambda: asyncio.sleep(0, running.consumer.problem()), within=10
            )
            assert problem is not None
            assert type(error).__name__ in problem and "committed nothing" in problem
            assert handle.calls >= 2, "retried"
            stopping = asyncio.get_running_loop().time()
            running.stop.set()
            assert running.task is not None
            await asyncio.wait_for(running.task, 2)  # no retry pause outlives a stop
            assert asyncio.get_running_loop().time() - stopping < 1.0
            assert running.consumer.problem() is None
        assert await committed_offsets(pool, name) == 0
        assert await pool.fetchval(f'SELECT count(*) FROM "{name}".seen') == 0


async def committed_offsets(pool: asyncpg.Pool, schema: str) -> int:
    total = await pool.fetchval(f'SELECT sum(next_offset) FROM "{schema}".consumer_positions')
    return int(total or 0)


async def test_concurrent_creates_on_a_fresh_schema_all_succeed() -> None:
    """Two consumers of one service starting together once failed with a unique violation
    on pg_type (CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin)."""
    pool = await create_pool(INFRA.database_url, max_size=8)
    names = [f"test_positions_race_{uuid4().hex[:10]}" for _ in range(5)]
    try:
        for name in names:
            async with pool.acquire() as conn:
                await conn.execute(f'CREATE SCHEMA "{name}"')

            async def create(schema: str = name) -> None:
                async with pool.acquire() as conn:
                    await PositionStore(schema).create(conn)

            await asyncio.gather(*(create() for _ in range(8)))
            async with pool.acquire() as conn:
                assert await conn.fetchval(f'SELECT count(*) FROM "{name}".consumer_positions') == 0
    finally:
        async with pool.acquire() as conn:
            for name in names:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await pool.close()
