"""The data-key store's contract against PostgreSQL (the stack's `supporters` schema;
every test's supporters are its own random lookups)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared import data_keys, sealing
from shared.db import create_pool
from shared.settings import InfraSettings
from tests.unit.shared.data_keys_contract import DataKeysContract, Store

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
