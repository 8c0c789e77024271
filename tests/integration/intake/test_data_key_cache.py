"""Intake's memory of data keys (services/intake/adapters/data_keys.py) against the real
PostgreSQL: bounded, and an erasure made anywhere (the CLI, another intake) removes the
key from it, so the next action of that email gets a new key."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from services.intake.adapters.data_keys import CachedDataKeys
from shared import data_keys, erasures, sealing
from shared.db import create_pool
from shared.settings import InfraSettings
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(InfraSettings().database_url, max_size=3)
    await data_keys.prepare(pool)
    yield pool
    await pool.close()


@contextlib.asynccontextmanager
async def following(cache: CachedDataKeys) -> AsyncIterator[None]:
    task = asyncio.create_task(cache.follow())
    try:
        await wait_until(lambda: asyncio.sleep(0, cache.following()), within=10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_erasure_elsewhere_removes_the_key_from_memory(pool: asyncpg.Pool) -> None:
    store = data_keys.PgDataKeyStore(pool, sealing.new_data_key())
    cache = CachedDataKeys(store, InfraSettings().database_url, capacity=100)
    lookup = f"lookup-{uuid4().hex}"
    async with following(cache):
        first = (await cache.for_supporters([lookup]))[lookup]
        assert cache.holds(lookup)
        await erasures.request_erasure(pool, store, lookup, "test")  # not through the cache
        await wait_until(lambda: asyncio.sleep(0, not cache.holds(lookup)), within=10)
        again = (await cache.for_supporters([lookup]))[lookup]
    assert again.key_id != first.key_id


async def test_memory_is_bounded_and_unused_while_not_following(pool: asyncpg.Pool) -> None:
    store = data_keys.PgDataKeyStore(pool, sealing.new_data_key())
    cache = CachedDataKeys(store, InfraSettings().database_url, capacity=5)
    lookups = [f"lookup-{uuid4().hex}" for _ in range(12)]
    await cache.for_supporters(lookups)
    assert len(cache) == 0  # not following: nothing kept, every look-up asks PostgreSQL
    async with following(cache):
        made = await cache.for_supporters(lookups)
        assert len(cache) == 5 and sum(cache.holds(lookup) for lookup in lookups) == 5
        assert await cache.for_supporters(lookups[:1]) == {lookups[0]: made[lookups[0]]}
        assert cache.holds(lookups[0]) and len(cache) == 5  # the latest used is kept
    assert len(cache) == 0  # stopped following: forgets everything
