"""The key of a stored signature, (supporter_key, case_id), is one index (migration 006):
a second signature of a supporter for a case is ignored whichever batch brings it, the same
supporter signs another case, and an erasure finds their rows by supporter_key alone."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.bootstrap import MIGRATIONS
from services.delivery.domain.intake import NamedSignature, SortedActions
from shared.db import create_pool, migrate
from tests.integration.delivery.conftest import MakeSettings

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


async def test_one_signature_per_supporter_and_case_through_the_one_key_index(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1)
    pool = await create_pool(settings.database_url)
    store, s = PgSignatureStore(settings.db_schema), f'"{settings.db_schema}"'
    try:
        await migrate(pool, settings.db_schema, MIGRATIONS)
        async with pool.acquire() as conn:
            indexes = await conn.fetch(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 "
                "AND tablename = 'signatures' AND indexdef LIKE '%supporter_key%'",
                settings.db_schema,
            )
            assert [r["indexdef"].split(" USING ")[1] for r in indexes] == [
                "btree (supporter_key, case_id)"
            ]
            for names in (["First", "Other Case"], ["Second Time", "Other Case Again"]):
                async with conn.transaction():
                    await store.add(conn, batch(names))
            rows = await conn.fetch(
                f"SELECT case_id, name FROM {s}.signatures WHERE supporter_key = 'k1' "
                "ORDER BY case_id"
            )
            assert [tuple(r) for r in rows] == [("a", "First"), ("b", "Other Case")]
            plan = await conn.fetch(
                f"EXPLAIN (COSTS OFF) SELECT * FROM {s}.signatures WHERE supporter_key = ANY($1)",
                ["k1"],
            )
            assert "signatures_key" in " ".join(r[0] for r in plan)  # an erasure's lookup
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute(
                    f"INSERT INTO {s}.signatures (case_id, supporter_key, name, country, "
                    "signed_at) VALUES ('a', 'k1', 'Plain Insert', 'FR', now())"
                )
    finally:
        await pool.close()


def batch(names: list[str]) -> SortedActions:
    first, other = names
    return SortedActions(
        named=[
            NamedSignature("a", "k1", first, "FR", NOW),
            NamedSignature("b", "k1", other, "FR", NOW),
        ]
    )


async def test_a_batch_with_one_key_taken_stores_all_its_other_signatures(
    make_settings: MakeSettings,
) -> None:
    """The plain insert tried first (BulkInsert's new_first) fails on the taken key; the
    batch is stored again skipping it, in the same transaction, which goes on."""
    settings = await make_settings(partitions=1)
    pool = await create_pool(settings.database_url)
    store, s = PgSignatureStore(settings.db_schema), f'"{settings.db_schema}"'
    mixed = SortedActions(
        named=[
            NamedSignature("a", "k0", "New Before", "FR", NOW),
            NamedSignature("a", "k1", "Second Time", "FR", NOW),
            NamedSignature("a", "k2", "New After", "FR", NOW),
        ]
    )
    try:
        await migrate(pool, settings.db_schema, MIGRATIONS)
        async with pool.acquire() as conn:
            async with conn.transaction():
                await store.add(conn, batch(["First", "Other Case"]))
            async with conn.transaction():
                await store.add(conn, mixed)
                after = await conn.fetchval("SELECT 1")  # the transaction still works
            rows = await conn.fetch(
                f"SELECT case_id, supporter_key, name FROM {s}.signatures ORDER BY id"
            )
        assert after == 1
        assert [tuple(r) for r in rows] == [
            ("a", "k1", "First"),
            ("b", "k1", "Other Case"),
            ("a", "k0", "New Before"),
            ("a", "k2", "New After"),
        ]
    finally:
        await pool.close()
