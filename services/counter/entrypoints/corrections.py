"""`plume counter recount` and `plume counter invalidate`: corrections run while the
counter consumes. They hold the counting lock exclusively, so no batch commits between
reading the ledger and writing the totals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from services.counter.adapters.pg_anomalies import active_flags, resolve_flags
from services.counter.adapters.pg_counting import MIGRATIONS, one_transaction
from services.counter.domain.model import Tally
from services.counter.domain.ports import Invalidation
from services.counter.service import (
    CampaignOf,
    Outcome,
    campaign_of,
    invalidate_alone,
    no_campaigns,
    recount_alone,
)
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


async def run_recount(
    settings: CounterSettings, case_id: str | None, repair: bool
) -> tuple[Tally, Outcome]:
    campaigns = await load_campaigns(settings) if repair else no_campaigns
    async with one_transaction(settings.database_url, settings.db_schema) as store:
        return await recount_alone(store, case_id, campaigns, repair)


async def run_invalidate(
    settings: CounterSettings, criteria: Invalidation, dry_run: bool = False
) -> Outcome:
    """Invalidate, and resolve the anomaly flags of the network or domain invalidated, in
    one transaction; a dry run does it all and rolls it back."""
    schema = settings.db_schema
    async with one_transaction(settings.database_url, schema, commit=not dry_run) as store:
        outcome = await invalidate_alone(store, criteria)
        await resolve_flags(store.ledger.conn, schema, criteria)
        return outcome


async def run_anomalies(settings: CounterSettings) -> list[dict[str, Any]]:
    """The flags an operator has to look at (as `GET /v1/anomalies` lists them)."""
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        await migrate(pool, settings.db_schema, MIGRATIONS)
        async with pool.acquire() as conn:
            table = f'"{settings.db_schema}".anomalies'
            return await active_flags(conn, table, settings.anomaly_keep_s)
    finally:
        await pool.close()


def describe_drift(drift: Tally) -> list[str]:
    """One line per case: the drift of its total and how many breakdown rows differ."""
    lines = []
    for case in sorted(drift.cases()):
        rows = sum(1 for c, _, _ in drift.rows if c == case)
        lines.append(f"{case}: total drift {drift.totals.get(case, 0):+d}, {rows} rows differ")
    return lines
