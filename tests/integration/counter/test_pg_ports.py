"""The port contract against the PostgreSQL adapters, each test in a rolled-back
transaction on a schema of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.adapters.pg_totals import PostgresMilestones, PostgresTotals
from tests.unit.counter.ports_contract import Ports, PortsContract

pytestmark = pytest.mark.integration


class TestPostgresPorts(PortsContract):
    @pytest.fixture
    async def ports(self, migrated_pool: tuple[asyncpg.Pool, str]) -> AsyncIterator[Ports]:
        pool, schema = migrated_pool
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield Ports(
                    PostgresLedger(conn, schema),
                    PostgresTotals(conn, schema),
                    PostgresMilestones(conn, schema),
                )
            finally:
                await transaction.rollback()
