"""The API keys each intake process holds in memory (shared/listening_keys.py): loaded at start,
followed through PostgreSQL's notifications, reloaded whole after a lost connection, and
never trusted while it is lost (look-ups then go to PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from shared import apikeys
from shared.db import create_pool
from shared.listening_keys import ListeningKeyStore
from shared.settings import InfraSettings
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
WRITE = {apikeys.Scope.ACTIONS_WRITE}


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(InfraSettings().database_url, max_size=2)
    await apikeys.prepare(pool)
    yield pool
    await pool.close()


async def create(pool: asyncpg.Pool, rate_limit: int = 0) -> tuple[str, str]:
    name = f"test-memory-{uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        return name, await apikeys.create_key(conn, name, WRITE, rate_limit)


async def revoke(pool: asyncpg.Pool, name: str) -> None:
    async with pool.acquire() as conn:
        assert await apikeys.revoke_key(conn, name)


async def listener_pids(pool: asyncpg.Pool) -> set[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            ListeningKeyStore.APPLICATION_NAME,
        )
    return {row["pid"] for row in rows}


async def held(store: ListeningKeyStore, secret: str) -> bool:
    return apikeys.hash_key(secret) in store.held_hashes()


async def loaded(store: ListeningKeyStore) -> bool:
    return store.loaded()


async def test_keys_are_held_by_hash_and_follow_creation_update_and_revocation(
    pool: asyncpg.Pool,
) -> None:
    store = ListeningKeyStore(pool, InfraSettings().database_url)
    following = asyncio.create_task(store.follow())
    try:
        await wait_until(lambda: loaded(store), within=10)
        name, secret = await create(pool, rate_limit=60)
        await wait_until(lambda: held(store, secret), within=5)
        assert secret.encode() not in b"".join(store.held_hashes())
        key = await store.find(secret)
        assert key is not None and key.rate_limit == 60 and key.scopes == WRITE

        async with pool.acquire() as conn:
            await conn.execute("UPDATE access.api_keys SET rate_limit = 5 WHERE name = $1", name)

        async def limit_now() -> int:
            found = await store.find(secret)
            return -1 if found is None else found.rate_limit

        await wait_until(limit_now, lambda limit: limit == 5, within=5)
        await revoke(pool, name)
        await wait_until(lambda: held(store, secret), lambda is_held: not is_held, within=5)
        assert await store.find(secret) is None
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    assert not store.loaded()


async def test_a_revocation_missed_while_disconnected_is_not_held_after_reconnecting(
    pool: asyncpg.Pool,
) -> None:
    store = ListeningKeyStore(pool, InfraSettings().database_url)
    before = await listener_pids(pool)
    name, secret = await create(pool)
    following = asyncio.create_task(store.follow())
    await wait_until(lambda: held(store, secret), within=10)
    (ours,) = await listener_pids(pool) - before
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_terminate_backend($1)", ours)
    # The lost connection ends the task (the supervisor restarts it) and empties memory.
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        await asyncio.wait_for(following, 10)
    assert not store.loaded() and not store.held_hashes()

    await revoke(pool, name)  # its notification reaches no one
    assert await store.find(secret) is None  # asked of PostgreSQL meanwhile

    following = asyncio.create_task(store.follow())
    try:
        await wait_until(lambda: loaded(store), within=10)
        assert not await held(store, secret)
        assert await store.find(secret) is None
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)


async def test_a_key_not_yet_held_is_looked_up_in_postgresql(pool: asyncpg.Pool) -> None:
    store = ListeningKeyStore(pool, InfraSettings().database_url)  # not following
    name, secret = await create(pool)
    key = await store.find(secret)
    assert key is not None and key.name == name
    assert await store.find(apikeys.PREFIX + "unknown") is None
