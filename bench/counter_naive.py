"""The naive baseline the counter is measured against: one `UPDATE … + 1` per action."""

from __future__ import annotations

import time

import asyncpg

from bench.counter_load import CASES, from_the_beginning
from services.counter.settings import CounterSettings
from shared.contracts.actions import ActionEvent
from shared.kafka import decode


async def naive_rate(settings: CounterSettings, limit: int, seconds: float) -> float:
    """The baseline: read the same topic and run one `UPDATE … + 1` per action (a
    transaction per fetched batch). Returns actions/s over at most `limit` actions."""
    conn = await asyncpg.connect(settings.database_url)
    table = f'"{settings.db_schema}".naive_totals'
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.db_schema}"')
    await conn.execute(f"CREATE TABLE {table} (case_id text PRIMARY KEY, total bigint NOT NULL)")
    await conn.executemany(f"INSERT INTO {table} VALUES ($1, 0)", [(c,) for c in CASES])
    consumer = await from_the_beginning(settings, "naive-bench")
    done, started = 0, time.monotonic()
    try:
        while done < limit and time.monotonic() - started < seconds:
            batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
            async with conn.transaction():
                for records in batches.values():
                    for record in records:
                        event = decode(ActionEvent, record.value or b"")
                        await conn.execute(
                            f"UPDATE {table} SET total = total + $2 WHERE case_id = $1",
                            event.case_id,
                            event.count,
                        )
                        done += 1
        return done / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await conn.close()
