"""The floor the counter is measured against: read the same records from Kafka and COPY
them into a table shaped like the ledger (its columns and primary key), in the same
PostgreSQL. What any consumer of these records into a ledger must at least do; the
counter does this, exactly once, plus totals, breakdowns, milestones and positions."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from bench.counter_load import from_the_beginning
from services.counter.settings import CounterSettings

LEDGER_SHAPE = (
    "action_id uuid PRIMARY KEY, case_id text NOT NULL, type text NOT NULL, "
    "channel text NOT NULL, country text NOT NULL, count integer NOT NULL, "
    "supporter_key text, source text NOT NULL, accepted_at timestamptz NOT NULL"
)
COLUMNS = [c.split()[0] for c in LEDGER_SHAPE.split(", ")]


def ledger_row(action: dict[str, Any]) -> tuple[object, ...]:
    """The ledger's columns of one decoded action (no validation: a floor)."""
    return (
        UUID(action["action_id"]),
        action["case_id"],
        action["type"],
        action["channel"],
        action["country"],
        action["count"],
        action.get("supporter_key"),
        action["source"],
        datetime.fromisoformat(action["accepted_at"]),
    )


async def copy_rate(settings: CounterSettings, n: int) -> float:
    """Actions/s reading the topic's first `n` records (parsed with orjson, no model) and
    copying each fetched batch into a fresh ledger-shaped table, from the first fetch to
    the last COPY."""
    conn = await asyncpg.connect(settings.database_url)
    table = "ledger_floor"
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.db_schema}"')
    await conn.execute(f'CREATE TABLE "{settings.db_schema}".{table} ({LEDGER_SHAPE})')
    consumer = await from_the_beginning(settings, "counter-floor")
    done, started = 0, time.monotonic()
    try:
        while done < n:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            rows = [
                ledger_row(orjson.loads(r.value or b"{}"))
                for records in batches.values()
                for r in records
            ]
            if rows:
                await conn.copy_records_to_table(
                    table, schema_name=settings.db_schema, columns=COLUMNS, records=rows
                )
                done += len(rows)
        return done / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await conn.close()
