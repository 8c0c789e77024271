"""`plume counter recount` and `plume counter invalidate`: corrections run while the
counter consumes. They hold the counting lock exclusively, so no batch commits between
reading the ledger and writing the totals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.adapters.pg_totals import PostgresMilestones, PostgresTotals
from services.counter.bootstrap import MIGRATIONS, campaign_of
from services.counter.domain.model import Tally
from services.counter.domain.ports import Invalidation
from services.counter.entrypoints.consumer import counting_lock_key
from services.counter.service import CampaignOf, Outcome, invalidate, recount
from services.counter.settings import CounterSettings
from shared.catalog import CatalogView
from shared.db import create_pool, migrate

log = logging.getLogger(__name__)
CATALOG_TIMEOUT_S = 15.0


async def load_campaigns(settings: CounterSettings) -> CampaignOf:
    """The catalogue's milestones; without Kafka, no milestone is announced by the repair
    (the consumer announces it with the case's next batch)."""
    catalog, stop = CatalogView(), asyncio.Event()
    follower = asyncio.create_task(catalog.follow(settings.kafka_bootstrap, stop))
    try:
        await asyncio.wait_for(catalog.loaded.wait(), CATALOG_TIMEOUT_S)
    except TimeoutError:
        log.warning("catalogue not loaded; milestones not checked")
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(follower, 5)
    return campaign_of(catalog)


@contextlib.asynccontextmanager
async def _counting_alone(
    settings: CounterSettings,
) -> AsyncIterator[tuple[PostgresLedger, PostgresTotals, PostgresMilestones]]:
    """The counter's ports in one transaction that holds the counting lock exclusively:
    running consumers wait at their next batch, so a correction never races them."""
    pool = await create_pool(settings.database_url, max_size=2)
    schema = settings.db_schema
    try:
        await migrate(pool, schema, MIGRATIONS)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", counting_lock_key(schema))
            yield (
                PostgresLedger(conn, schema),
                PostgresTotals(conn, schema),
                PostgresMilestones(conn, schema),
            )
    finally:
        await pool.close()


async def run_recount(
    settings: CounterSettings, case_id: str | None, repair: bool
) -> tuple[Tally, Outcome]:
    campaigns = await load_campaigns(settings) if repair else (lambda _: None)
    async with _counting_alone(settings) as (ledger, totals, milestones):
        return await recount(ledger, totals, milestones, case_id, campaigns, repair)


async def run_invalidate(settings: CounterSettings, criteria: Invalidation) -> Outcome:
    async with _counting_alone(settings) as (ledger, totals, milestones):
        return await invalidate(ledger, totals, milestones, criteria)


def describe_drift(drift: Tally) -> list[str]:
    """One line per case: the drift of its total and how many breakdown rows differ."""
    lines = []
    for case in sorted(drift.cases()):
        rows = sum(1 for c, _, _ in drift.rows if c == case)
        lines.append(f"{case}: total drift {drift.totals.get(case, 0):+d}, {rows} rows differ")
    return lines
