"""The counter's ports on one PostgreSQL connection, inside the caller's transaction, with
the counting lock (an advisory transaction lock): batches hold it shared, corrections
exclusively."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.adapters.pg_totals import PostgresMilestones, PostgresTotals
from shared.db import Conn, create_pool, migrate

MIGRATIONS = "services.counter.adapters.migrations"


def counting_lock_key(schema: str) -> int:
    return zlib.crc32(f"{schema}.counting".encode())


@dataclass(frozen=True)
class PostgresCountingLock:
    conn: Conn
    schema: str

    async def share(self) -> None:
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock_shared($1)", counting_lock_key(self.schema)
        )

    async def alone(self) -> None:
        await self.conn.execute("SELECT pg_advisory_xact_lock($1)", counting_lock_key(self.schema))


@dataclass(frozen=True)
class PostgresCounting:
    """domain.ports.CountingStore on `conn`."""

    ledger: PostgresLedger
    totals: PostgresTotals
    milestones: PostgresMilestones
    lock: PostgresCountingLock

    @classmethod
    def on(cls, conn: Conn, schema: str) -> PostgresCounting:
        return cls(
            PostgresLedger(conn, schema),
            PostgresTotals(conn, schema),
            PostgresMilestones(conn, schema),
            PostgresCountingLock(conn, schema),
        )


@contextlib.asynccontextmanager
async def one_transaction(
    database_url: str, schema: str, commit: bool = True
) -> AsyncIterator[PostgresCounting]:
    """The store in one transaction on a connection of its own, the schema migrated first:
    for a correction run from the command line beside running counters. Without `commit`
    the transaction is rolled back at the end (a dry run: every effect seen, none kept)."""
    pool = await create_pool(database_url, max_size=2)
    try:
        await migrate(pool, schema, MIGRATIONS)
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield PostgresCounting.on(conn, schema)
            except BaseException:
                await transaction.rollback()
                raise
            await (transaction.commit() if commit else transaction.rollback())
    finally:
        await pool.close()
