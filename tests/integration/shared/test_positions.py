"""PositionedConsumer against the real Kafka and PostgreSQL: effects and positions are
committed together, so a restarted consumer resumes where the last commit left it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from uuid import uuid4

import asyncpg
import pytest

from shared.db import Conn, create_pool
from shared.kafka import durable_producer, manual_consumer
from shared.positions import PositionedConsumer, PositionStore, Record
from shared.settings import InfraSettings
from tests.integration.shared.conftest import own_topic
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
INFRA = InfraSettings()


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    async with own_topic("positions", 4) as name:
        yield name


@pytest.fixture
async def schema() -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    name = f"test_positions_{uuid4().hex[:12]}"
    pool = await create_pool(INFRA.database_url)
    async with pool.acquire() as conn:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        await conn.execute(f'CREATE TABLE "{name}".seen (value text PRIMARY KEY)')
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
    """Writes each record's value; fails the first `fail_first` batches after writing."""

    def __init__(self, schema: str, fail_first: int = 0) -> None:
        self.schema = schema
        self.fail_first = fail_first
        self.calls = 0

    @staticmethod
    def decode(record: Record) -> str:
        return (record.value or b"").decode()

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, str]]) -> None:
        self.calls += 1
        # A plain INSERT (no ON CONFLICT): a replayed record would raise here.
        await conn.executemany(
            f'INSERT INTO "{self.schema}".seen (value) VALUES ($1)', [(v,) for _, v in batch]
        )
        if self.calls <= self.fail_first:
            raise OSError("simulated failure after writing, before commit")


async def consume_until(
    pool: asyncpg.Pool, schema: str, topic: str, handle: Recorder, expected: int, group: str
) -> PositionedConsumer[str]:
    consumer = PositionedConsumer(
        manual_consumer(INFRA.kafka_bootstrap, group, "test"),
        pool,
        PositionStore(schema),
        topic,
        handle,
    )
    await consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(
            lambda: pool.fetchval(f'SELECT count(*) FROM "{schema}".seen'),
            lambda seen: seen >= expected,
        )
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        await consumer.stop()
    return consumer


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


async def test_failed_batch_commits_nothing_and_is_retried(
    topic: str, schema: tuple[asyncpg.Pool, str]
) -> None:
    pool, name = schema
    await produce(topic, [f"c{i}" for i in range(50)])
    handle = Recorder(name, fail_first=2)
    await consume_until(pool, name, topic, handle, 50, f"g-{uuid4().hex[:8]}")
    assert handle.calls >= 3
    assert await pool.fetchval(f'SELECT count(*) FROM "{name}".seen') == 50


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
