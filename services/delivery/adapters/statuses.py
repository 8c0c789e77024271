"""Dossiers by status, and how long the oldest unfinished one of each status and channel
has waited since it was sealed: what the gauges the delivery alerts watch show."""

from __future__ import annotations

import asyncpg

from services.delivery.domain.status import DossierStatus, StatusFigures
from shared.db import Conn


async def read_statuses(conn: Conn, schema: str) -> StatusFigures:
    rows = await conn.fetch(
        "SELECT status, coalesce(target->'delivery'->>'channel', 'manual') AS channel, "
        "count(*) AS n, extract(epoch FROM now() - min(created_at))::float8 AS age "
        f'FROM "{schema}".dossiers GROUP BY 1, 2'
    )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
    return StatusFigures(
        counts=counts,
        oldest_age_s={
            (r["status"], r["channel"]): r["age"]
            for r in rows
            if r["status"] != DossierStatus.ACKNOWLEDGED
        },
    )


class PgStatuses:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    async def read(self) -> StatusFigures:
        async with self.pool.acquire() as conn:
            return await read_statuses(conn, self.schema)
