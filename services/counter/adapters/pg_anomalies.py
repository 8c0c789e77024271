"""Waves flagged, kept in PostgreSQL so that every counter process, the read API and the
`plume` command see the same list (the rates themselves are in each process's memory)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.counter.domain.ports import Invalidation
from services.counter.domain.waves import DOMAIN, NETWORK, Wave
from shared.db import Conn

REOPEN_AFTER = timedelta(seconds=2)
_FIELDS = (
    "case_id, kind, key, window_actions, usual_actions, peak_actions, flagged_at, "
    "last_seen_at, resolved_at"
)


class PostgresAnomalies:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.table = f'"{schema}".anomalies'

    async def record(self, waves: Sequence[Wave], judged_at: datetime) -> None:
        """Flag each wave, or update its flag. A flag an operator resolved less than
        REOPEN_AFTER before `judged_at` stays resolved: those counts may have been taken
        before the invalidation (the next judgement, made on fresh counts, may reopen it)."""
        if not waves:
            return
        async with self.pool.acquire() as conn:
            await conn.executemany(
                f"INSERT INTO {self.table} AS a (case_id, kind, key, window_actions, "
                "usual_actions, peak_actions, flagged_at, last_seen_at) "
                "VALUES ($1, $2, $3, $4, $5, $4, $6, $6) "
                "ON CONFLICT (case_id, kind, key) DO UPDATE SET "
                "window_actions = $4, usual_actions = $5, last_seen_at = $6, "
                "peak_actions = CASE WHEN a.resolved_at IS NULL "
                "  THEN greatest(a.peak_actions, $4) ELSE $4 END, "
                "flagged_at = CASE WHEN a.resolved_at IS NULL THEN a.flagged_at ELSE $6 END, "
                "resolved_at = NULL "
                "WHERE a.resolved_at IS NULL OR a.resolved_at < $6 - $7::interval",
                [
                    (w.case_id, w.kind, w.key, w.actions, w.usual, judged_at, REOPEN_AFTER)
                    for w in waves
                ],
            )

    async def resolved(self, within_s: float) -> dict[tuple[str, str, str], datetime]:
        """When each flag resolved within the last `within_s` seconds was resolved."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT case_id, kind, key, resolved_at FROM {self.table} "
                "WHERE resolved_at > now() - make_interval(secs => $1)",
                within_s,
            )
        return {(r["case_id"], r["kind"], r["key"]): r["resolved_at"] for r in rows}

    async def active(self, keep_s: float) -> list[dict[str, Any]]:
        """Flags not resolved and seen within `keep_s`, newest first."""
        async with self.pool.acquire() as conn:
            return await active_flags(conn, self.table, keep_s)


async def active_flags(conn: Conn, table: str, keep_s: float) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_FIELDS} FROM {table} WHERE resolved_at IS NULL "
        "AND last_seen_at > now() - make_interval(secs => $1) "
        "ORDER BY flagged_at DESC, case_id, kind, key",
        keep_s,
    )
    return [dict(row) for row in rows]


async def resolve_flags(conn: Conn, schema: str, criteria: Invalidation) -> int:
    """Mark resolved the flags of the network or domain being invalidated (in the
    invalidation's transaction); how many."""
    kind, key = (
        (NETWORK, criteria.network_hash)
        if criteria.network_hash
        else (DOMAIN, criteria.email_domain_hash)
    )
    if key is None:
        return 0
    result = await conn.execute(
        f'UPDATE "{schema}".anomalies SET resolved_at = clock_timestamp() '
        "WHERE resolved_at IS NULL AND kind = $1 AND key = $2 "
        "AND ($3::text IS NULL OR case_id = $3)",
        kind,
        key,
        criteria.case_id,
    )
    return int(result.split()[-1])
