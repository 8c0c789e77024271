"""What the counter holds about one supporter, for `plume supporters export`: the ledger
rows of their actions (no name nor email: only the supporter's id)."""

from __future__ import annotations

from typing import Any

from shared.db import Conn


async def held_about(conn: Conn, schema: str, subjects: list[str]) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT action_id, case_id, type, channel, country, count, source, accepted_at, "
        f'counted_at, invalidated_at FROM "{schema}".ledger WHERE supporter_key = ANY($1) '
        "ORDER BY accepted_at",
        subjects,
    )
    return {"counted_actions": [dict(r) for r in rows]}
