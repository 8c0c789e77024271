"""The data-key store's contract against PostgreSQL (the stack's `supporters` schema;
every test's supporters are its own random lookups)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from shared import data_keys, sealing
from shared.db import Conn, create_pool
from shared.settings import InfraSettings
from tests.unit.shared.data_keys_contract import DataKeysContract, Store
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


class TestPgDataKeys(DataKeysContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[Store]:
        pool = await create_pool(InfraSettings().database_url, max_size=2)
        try:
            await data_keys.prepare(pool)
            keys = data_keys.PgDataKeyStore(pool, sealing.new_data_key())
            async with pool.acquire() as conn:  # each call commits, as the fake's do
                yield Store(keys, conn)
        finally:
            await pool.close()


async def test_a_held_key_makes_its_erasure_wait_for_the_transaction() -> None:
    """What delivery relies on: a key opened in a batch's transaction cannot be destroyed
    until that transaction ends, so the erasure then finds what the batch stored."""
    pool = await create_pool(InfraSettings().database_url, max_size=3)
    try:
        await data_keys.prepare(pool)
        keys = data_keys.PgDataKeyStore(pool, sealing.new_data_key())
        lookup = f"lookup-{sealing.new_data_key().hex()}"
        key = (await keys.for_supporters([lookup]))[lookup]
        async with pool.acquire() as batch, pool.acquire() as eraser:
            transaction = batch.transaction()
            await transaction.start()
            assert await keys.held(batch, [key.key_id])
            async with eraser.transaction():
                await eraser.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(Exception, match="lock timeout"):
                    await keys.destroy(eraser, lookup)
            await transaction.commit()
            async with eraser.transaction():
                assert await keys.destroy(eraser, lookup) == key.key_id
    finally:
        await pool.close()


AGED = datetime(1990, 1, 1, tzinfo=UTC)  # these tests' keys were last used then
DUE = AGED + timedelta(days=1)  # a retention ending then: only these tests' keys are due


async def aged(pool: asyncpg.Pool, lookups: list[str], step: timedelta = timedelta(0)) -> None:
    async with pool.acquire() as conn:
        for i, lookup in enumerate(lookups):
            await conn.execute(
                "UPDATE supporters.data_keys SET last_used_at = $2 WHERE lookup = $1",
                lookup,
                AGED + i * step,
            )


@pytest.fixture
async def keys() -> AsyncIterator[data_keys.PgDataKeyStore]:
    pool = await create_pool(InfraSettings().database_url, max_size=3)
    try:
        await data_keys.prepare(pool)
        yield data_keys.PgDataKeyStore(pool, sealing.new_data_key())
    finally:
        async with pool.acquire() as conn:  # none left aged for another test's walk
            await conn.execute("DELETE FROM supporters.data_keys WHERE last_used_at < $1", DUE)
        await pool.close()


def new_lookups(n: int) -> list[str]:
    return [f"lookup-{uuid4().hex}" for _ in range(n)]


async def test_using_a_key_again_or_consenting_to_contact_takes_it_off_the_walk(
    keys: data_keys.PgDataKeyStore,
) -> None:
    idle, used_again, consenting = new_lookups(3)
    made = await keys.for_supporters([idle, used_again, consenting])
    await aged(keys.pool, [idle, used_again, consenting])
    await keys.for_supporters([used_again])
    await keys.for_supporters([consenting], contact=[consenting])
    async with keys.pool.acquire() as conn, conn.transaction():
        due = await keys.unused(conn, DUE, None, 100)
    assert [k.key_id for k in due] == [made[idle].key_id]


async def test_the_walk_goes_in_order_of_last_use_from_where_it_stopped(
    keys: data_keys.PgDataKeyStore,
) -> None:
    lookups = new_lookups(5)
    made = await keys.for_supporters(lookups)
    await aged(keys.pool, lookups, step=timedelta(minutes=1))
    walked: list[str] = []
    after = None
    async with keys.pool.acquire() as conn:
        while batch := await keys.unused(conn, DUE, after, 2):
            walked += [k.key_id for k in batch]
            after = batch[-1]
    assert walked == [made[lookup].key_id for lookup in lookups]


async def test_a_key_destroyed_while_intake_asks_for_it_gives_a_new_key(
    keys: data_keys.PgDataKeyStore,
) -> None:
    """Intake waits for the job's lock on the key; once it is destroyed, a new key is made
    (the action is sealed with a key that exists), never the destroyed one."""
    (lookup,) = new_lookups(1)
    old = (await keys.for_supporters([lookup]))[lookup]
    await aged(keys.pool, [lookup])
    async with keys.pool.acquire() as job, keys.pool.acquire() as watcher:
        async with job.transaction():
            (due,) = await keys.unused(job, DUE, None, 100)
            asking = asyncio.create_task(keys.for_supporters([lookup]))
            await wait_until(lambda: waiting_for_a_lock(watcher), lambda n: n >= 1, within=10)
            assert not asking.done()
            assert await keys.destroy_ids(job, [due.key_id]) == 1
        new = (await asking)[lookup]
    assert new.key_id != old.key_id and await keys.find(lookup) == new


async def waiting_for_a_lock(conn: Conn) -> int:
    found: int = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'INSERT INTO supporters.data_keys%'"
    )
    return found
