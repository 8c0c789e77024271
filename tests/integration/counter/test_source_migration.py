"""Migration 002 fills in the totals by source of what a counter counted before it
existed, from the ledger, by the same rule as a batch: recount then finds no drift."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest

from services.counter.adapters.pg_counting import MIGRATIONS, PostgresCounting
from services.counter.domain.model import entry_of
from services.counter.domain.ports import Invalidation
from services.counter.service import count_actions, invalidate, no_campaigns, recount
from shared.db import Conn, create_pool, migrate
from tests.integration.counter.conftest import drop_schema, isolated_settings
from tests.unit.counter.builders import ACCEPTED, action

pytestmark = pytest.mark.integration
BREAKDOWNS_BY_SOURCE = ("source", "hour_source")


async def test_migration_002_fills_in_the_sources_of_what_was_counted_before() -> None:
    settings = isolated_settings()
    schema = settings.db_schema
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await _apply_all_but_migration_002(conn, schema)
            store = PostgresCounting.on(conn, schema)
            entries = [
                entry_of(action(count=300, source="amnesty-sn")),
                entry_of(action(count=2, accepted_at=ACCEPTED + timedelta(hours=1))),
                entry_of(action(source="gone")),
            ]
            await count_actions(store.ledger, store.totals, store.milestones, entries, no_campaigns)
            await invalidate(store.ledger, store.totals, store.milestones, Invalidation("gone"))
            # what a counter without migration 002 stored: no row by source
            await conn.execute(
                f'DELETE FROM "{schema}".case_breakdown WHERE dimension = ANY($1)',
                list(BREAKDOWNS_BY_SOURCE),
            )
        await migrate(pool, schema, MIGRATIONS)
        async with pool.acquire() as conn:
            store = PostgresCounting.on(conn, schema)
            read = (await store.totals.read(["case-a"]))["case-a"]
            assert read.by_source == {"amnesty-sn": 300, "web": 2}
            assert [p.by_source for p in await store.totals.history("case-a")] == [
                {"amnesty-sn": 300},
                {"web": 2},
            ]
            drift, _ = await recount(
                store.ledger, store.totals, store.milestones, None, no_campaigns, repair=False
            )
            assert drift.is_empty()
    finally:
        await pool.close()
        await drop_schema(settings.database_url, schema)


async def _apply_all_but_migration_002(conn: Conn, schema: str) -> None:
    """The ledger as it was before 002 (with the later, independent migrations: the
    counting code of today writes their columns)."""
    names = sorted(
        entry.name
        for entry in resources.files(MIGRATIONS).iterdir()
        if entry.name.endswith(".sql") and not entry.name.startswith("002_")
    )
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.execute(
        f'CREATE TABLE "{schema}".schema_migrations '
        "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    await conn.execute(f'SET search_path TO "{schema}", public')
    for name in names:
        sql = resources.files(MIGRATIONS).joinpath(name).read_text(encoding="utf-8")
        await conn.execute(sql)
        await conn.execute(f'INSERT INTO "{schema}".schema_migrations (name) VALUES ($1)', name)
    await conn.execute("RESET search_path")
