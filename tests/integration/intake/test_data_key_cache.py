"""Intake's memory of data keys (services/intake/adapters/data_keys.py) against the real
PostgreSQL: bounded, and an erasure made anywhere (the CLI, another intake) removes the
key from it, so the next action of that email gets a new key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from services.intake.adapters import data_keys as cached_keys
from services.intake.adapters.data_keys import CachedDataKeys
from shared import data_keys, erasures, sealing
from shared.db import create_pool
from shared.settings import InfraSettings
from tests.integration.data_key_memory import following
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(InfraSettings().database_url, max_size=3)
    await data_keys.prepare(pool)
    yield pool
    await pool.close()


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


async def use_of(pool: asyncpg.Pool, lookup: str) -> asyncpg.Record:
    async with pool.acquire() as conn:
        found = await conn.fetchrow(
            "SELECT last_used_at, contact_consented_at FROM supporters.data_keys WHERE lookup = $1",
            lookup,
        )
    assert found is not None
    return found


async def test_a_key_in_memory_has_its_use_recorded_again_past_the_interval(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps key retention off a key intake seals with: its use is recorded at least
    every RECORD_USE_EVERY_S, and a consent to contact at once, even from memory."""
    store = data_keys.PgDataKeyStore(pool, sealing.new_data_key())
    cache = CachedDataKeys(store, InfraSettings().database_url, capacity=100)
    lookup, aged = f"lookup-{uuid4().hex}", datetime(1990, 1, 1, tzinfo=UTC)

    async def age() -> None:
        async with pool.acquire() as conn:
            await conn.execute(
                "UPDATE supporters.data_keys SET last_used_at = $2 WHERE lookup = $1", lookup, aged
            )

    try:
        async with following(cache):
            first = (await cache.for_supporters([lookup]))[lookup]
            await age()
            assert await cache.for_supporters([lookup]) == {lookup: first}
            assert (await use_of(pool, lookup))["last_used_at"] == aged  # from memory
            await cache.for_supporters([lookup], contact=[lookup])
            consented = await use_of(pool, lookup)
            assert consented["contact_consented_at"] and consented["last_used_at"] > aged
            await age()
            monkeypatch.setattr(cached_keys, "RECORD_USE_EVERY_S", 0.0)  # the interval passed
            assert await cache.for_supporters([lookup]) == {lookup: first}
            assert (await use_of(pool, lookup))["last_used_at"] > aged
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM supporters.data_keys WHERE lookup = $1", lookup)
