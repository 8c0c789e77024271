"""Delivery's part of an erasure (shared/erasures.py): the supporter's named signatures
become unnamed ones (still counted on the cover, as a supporter who did not share their
name), their messages are deleted, and every dossier that held them is counted again and
re-rendered without them (its files removed at once). Dossiers already transmitted are
named in the receipt, with when and to whom: what left plume cannot be recalled."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from services.delivery.adapters.cut_rows import hold_sealing_shared, tally
from shared import erasures
from shared.db import Conn

SERVICE = "delivery"
TRANSMITTED = ("sent", "acknowledged")


class PgEraser:
    def __init__(self, pool: asyncpg.Pool, schema: str, folder: Path) -> None:
        self.pool = pool
        self.schema = schema
        self.s = f'"{schema}"'
        self.folder = folder

    async def erase_pending(self) -> int:
        """Do the erasures waiting for delivery; how many were done."""
        done = 0
        async with self.pool.acquire() as conn, conn.transaction():
            pending = await erasures.pending_for(conn, SERVICE)
            rerendered: list[uuid.UUID] = []
            for erasure in pending:
                report, dossiers = await self._scrub(conn, erasure.subjects)
                await erasures.done_by(conn, erasure.receipt_id, SERVICE, report)
                rerendered += dossiers
                done += 1
        for dossier_id in rerendered:  # the old files go now; the renderer writes new ones
            shutil.rmtree(self.folder / str(dossier_id), ignore_errors=True)
        return done

    async def _scrub(
        self, conn: Conn, subjects: list[str]
    ) -> tuple[dict[str, Any], list[uuid.UUID]]:
        await hold_sealing_shared(conn, self.schema)  # no cut half sees what goes
        named = await conn.fetch(
            # Each row's cut as the view finds it (by range or by cut_id): one rule.
            f"WITH gone AS (SELECT case_id, supporter_key, country, cut_id, consent_text_id "
            f"FROM {self.s}.signatures_with_cut WHERE supporter_key = ANY($1)), "
            f"deleted AS (DELETE FROM {self.s}.signatures WHERE supporter_key = ANY($1)) "
            "SELECT * FROM gone",
            subjects,
        )
        await conn.executemany(
            f"INSERT INTO {self.s}.unnamed_supporters (case_id, supporter_key, country, cut_id, "
            "consent_text_id) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (case_id, supporter_key) DO NOTHING",
            [tuple(r) for r in named],
        )
        # What remains of them is a count: under an id nothing links to the email any more.
        await conn.execute(
            f"UPDATE {self.s}.unnamed_supporters SET supporter_key = "
            "'erased:' || gen_random_uuid() WHERE supporter_key = ANY($1)",
            subjects,
        )
        messages = await conn.fetch(
            f"DELETE FROM {self.s}.solidarity_messages WHERE supporter_key = ANY($1) "
            "RETURNING cut_id",
            subjects,
        )
        cuts = {r["cut_id"] for r in [*named, *messages] if r["cut_id"] is not None}
        dossiers = [d for cut_id in sorted(cuts) for d in await self._recount(conn, cut_id)]
        report = {
            "signatures_unnamed": len(named),
            "messages_deleted": len(messages),
            "dossiers_rerendered": [str(d["id"]) for d in dossiers],
            "dossiers_transmitted": [
                _transmitted(d) for d in dossiers if d["status"] in TRANSMITTED
            ],
        }
        return report, [d["id"] for d in dossiers]

    async def _recount(self, conn: Conn, cut_id: int) -> list[asyncpg.Record]:
        kind = await conn.fetchval(f"SELECT kind FROM {self.s}.cuts WHERE id = $1", cut_id)
        table = "signatures" if kind == "signatures" else "solidarity_messages"
        count, by_country = await tally(conn, self.s, table, cut_id)
        further = await conn.fetchrow(
            f"SELECT count(*) AS n, count(DISTINCT country) AS m "
            f"FROM {self.s}.unnamed_supporters WHERE cut_id = $1",
            cut_id,
        )
        assert further is not None
        countries = orjson.dumps(by_country).decode()
        await conn.execute(
            f"UPDATE {self.s}.cuts SET count = $2, by_country = $3, further_supporters = $4, "
            "further_countries = $5 WHERE id = $1",
            cut_id,
            count,
            countries,
            further["n"] if kind == "signatures" else 0,
            further["m"] if kind == "signatures" else 0,
        )
        return await conn.fetch(
            f"UPDATE {self.s}.dossiers d SET count = $2, by_country = $3, files = NULL, "
            "rendered_at = NULL, revision = revision + 1, updated_at = now() WHERE cut_id = $1 "
            "RETURNING id, status, target, acknowledged_at, acknowledged_by, (SELECT "
            f"min(o.created_at) FROM {self.s}.outbox o WHERE o.dossier_id = d.id "
            "AND o.status = 'sent') AS sent_at",
            cut_id,
            count,
            countries,
        )


def _transmitted(dossier: asyncpg.Record) -> dict[str, Any]:
    target = orjson.loads(dossier["target"])
    sent_at = dossier["sent_at"] or dossier["acknowledged_at"]
    return {
        "dossier_id": str(dossier["id"]),
        "status": dossier["status"],
        "when": sent_at.isoformat() if sent_at else None,
        "to": {
            "target_id": target.get("id"),
            "name": target.get("name"),
            "channel": (target.get("delivery") or {}).get("channel"),
            "handed_over_by": dossier["acknowledged_by"],
        },
    }
