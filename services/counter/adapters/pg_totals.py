"""Case totals, breakdowns and reached milestones in PostgreSQL (implement
domain.ports.Totals and domain.ports.Milestones)."""

from __future__ import annotations

from services.counter.domain.model import (
    CHANNEL,
    COUNTRY,
    HISTORY,
    SOURCE,
    TYPE,
    HourPoint,
    Tally,
    history_of,
)
from shared.contracts.totals import CaseTotals
from shared.db import Conn

_BREAKDOWN_FIELD = {
    TYPE: "by_type",
    COUNTRY: "by_country",
    CHANNEL: "by_channel",
    SOURCE: "by_source",
}


class PostgresTotals:
    def __init__(self, conn: Conn, schema: str) -> None:
        self.conn = conn
        self.totals = f'"{schema}".case_totals'
        self.breakdown = f'"{schema}".case_breakdown'

    async def add(self, delta: Tally) -> dict[str, int]:
        # Sorted so that concurrent counter processes lock rows in the same order.
        cases = sorted(delta.totals)
        rows = await self.conn.fetch(
            f"INSERT INTO {self.totals} AS t (case_id, total) "
            "SELECT * FROM unnest($1::text[], $2::bigint[]) "
            "ON CONFLICT (case_id) DO UPDATE SET total = t.total + EXCLUDED.total, "
            "revision = t.revision + 1, updated_at = now() RETURNING case_id, total",
            cases,
            [delta.totals[c] for c in cases],
        )
        keys = sorted(delta.rows)
        await self.conn.execute(
            f"INSERT INTO {self.breakdown} AS b (case_id, dimension, key, total) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) "
            "ON CONFLICT (case_id, dimension, key) DO UPDATE SET total = b.total + EXCLUDED.total",
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [delta.rows[k] for k in keys],
        )
        return {row["case_id"]: row["total"] for row in rows}

    async def stored_tally(self, case_id: str | None) -> Tally:
        result = Tally()
        for row in await self.conn.fetch(
            f"SELECT case_id, total FROM {self.totals} WHERE $1::text IS NULL OR case_id = $1",
            case_id,
        ):
            if row["total"]:
                result.totals[row["case_id"]] = row["total"]
        for row in await self.conn.fetch(
            f"SELECT case_id, dimension, key, total FROM {self.breakdown} "
            "WHERE ($1::text IS NULL OR case_id = $1) AND total <> 0",
            case_id,
        ):
            result.rows[(row["case_id"], row["dimension"], row["key"])] = row["total"]
        return result

    async def read(self, case_ids: list[str] | None) -> dict[str, CaseTotals]:
        heads = await self.conn.fetch(
            f"SELECT case_id, total, revision, updated_at FROM {self.totals} "
            "WHERE $1::text[] IS NULL OR case_id = ANY($1)",
            case_ids,
        )
        parts: dict[str, dict[str, dict[str, int]]] = {
            h["case_id"]: {f: {} for f in _BREAKDOWN_FIELD.values()} for h in heads
        }
        for row in await self.conn.fetch(
            f"SELECT case_id, dimension, key, total FROM {self.breakdown} "
            "WHERE ($1::text[] IS NULL OR case_id = ANY($1)) AND dimension <> ALL($2) "
            "AND total <> 0",
            case_ids,
            list(HISTORY),
        ):
            field = _BREAKDOWN_FIELD.get(row["dimension"])
            if field and row["case_id"] in parts:
                parts[row["case_id"]][field][row["key"]] = row["total"]
        return {
            h["case_id"]: CaseTotals(
                case_id=h["case_id"],
                total=h["total"],
                updated_at=h["updated_at"],
                revision=h["revision"],
                **parts[h["case_id"]],
            )
            for h in heads
        }

    async def history(self, case_id: str) -> list[HourPoint]:
        rows = await self.conn.fetch(
            f"SELECT dimension, key, total FROM {self.breakdown} "
            "WHERE case_id = $1 AND dimension = ANY($2) AND total <> 0",
            case_id,
            list(HISTORY),
        )
        return history_of([(row["dimension"], row["key"], row["total"]) for row in rows])

    async def revisions(self) -> dict[str, int]:
        rows = await self.conn.fetch(f"SELECT case_id, revision FROM {self.totals}")
        return {row["case_id"]: row["revision"] for row in rows}


class PostgresMilestones:
    def __init__(self, conn: Conn, schema: str) -> None:
        self.conn = conn
        self.table = f'"{schema}".milestones_reached'

    async def reach(
        self, case_id: str, campaign_id: str, milestones: list[int], total: int
    ) -> list[int]:
        if not milestones:
            return []
        rows = await self.conn.fetch(
            f"INSERT INTO {self.table} (case_id, milestone, campaign_id, total) "
            "SELECT $1, m, $2, $3 FROM unnest($4::bigint[]) AS m "
            "ON CONFLICT (case_id, milestone) DO NOTHING RETURNING milestone",
            case_id,
            campaign_id,
            total,
            milestones,
        )
        return sorted(row["milestone"] for row in rows)

    async def retract_above(self, case_id: str, total: int) -> list[int]:
        rows = await self.conn.fetch(
            f"DELETE FROM {self.table} WHERE case_id = $1 AND milestone > $2 RETURNING milestone",
            case_id,
            total,
        )
        return sorted(row["milestone"] for row in rows)
