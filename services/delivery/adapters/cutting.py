"""Cutting: one transaction assigns a case's pending items to a new cut and creates its
dossiers (one per target, or one for the person of the case) and their `sealed` events.
A crash before COMMIT leaves everything pending; after it, everything is sealed once."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime

import orjson

from services.delivery.domain.policy import CutReason
from shared.contracts.catalog import CaseRecord
from shared.db import Conn

KINDS = {"signatures": "signatures", "solidarity": "solidarity_messages"}


@dataclass(frozen=True)
class PendingCase:
    case_id: str
    kind: str
    count: int
    oldest: datetime


class PgCutter:
    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.s = f'"{schema}"'

    async def pending(self, conn: Conn) -> list[PendingCase]:
        rows = await conn.fetch(
            f"SELECT case_id, 'signatures' AS kind, count(*) AS n, min(received_at) AS oldest "
            f"FROM {self.s}.signatures WHERE cut_id IS NULL GROUP BY case_id UNION ALL "
            f"SELECT case_id, 'solidarity', count(*), min(received_at) "
            f"FROM {self.s}.solidarity_messages WHERE cut_id IS NULL GROUP BY case_id"
        )
        return [PendingCase(r["case_id"], r["kind"], r["n"], r["oldest"]) for r in rows]

    async def cut(
        self, conn: Conn, record: CaseRecord, kind: str, reason: CutReason
    ) -> list[uuid.UUID]:
        """Seal the pending items of one case and kind; the ids of the new dossiers."""
        table, case_id = KINDS[kind], record.case.id
        async with conn.transaction():
            lock = zlib.crc32(f"{self.schema}:{case_id}:{kind}".encode())
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
            cut_id = await conn.fetchval(
                f"INSERT INTO {self.s}.cuts (case_id, kind, reason, count, by_country) "
                "VALUES ($1, $2, $3, 0, '{}') RETURNING id",
                case_id,
                kind,
                reason.value,
            )
            moved = await conn.execute(
                f"UPDATE {self.s}.{table} SET cut_id = $1 WHERE case_id = $2 AND cut_id IS NULL",
                cut_id,
                case_id,
            )
            if moved.split()[-1] == "0":
                # Nothing pending after all: undo the empty cut, keep the transaction's
                # outcome equal to doing nothing.
                await conn.execute(f"DELETE FROM {self.s}.cuts WHERE id = $1", cut_id)
                return []
            count, by_country = await self._tally(conn, table, cut_id)
            further = (
                await self._seal_unnamed(conn, case_id, cut_id) if kind == "signatures" else (0, 0)
            )
            await conn.execute(
                f"UPDATE {self.s}.cuts SET count = $2, by_country = $3, "
                "further_supporters = $4, further_countries = $5 WHERE id = $1",
                cut_id,
                count,
                orjson.dumps(by_country).decode(),
                *further,
            )
            return await self._create_dossiers(conn, record, kind, cut_id, count, by_country)

    async def _tally(self, conn: Conn, table: str, cut_id: int) -> tuple[int, dict[str, int]]:
        rows = await conn.fetch(
            f"SELECT country, count(*) AS n FROM {self.s}.{table} WHERE cut_id = $1 "
            "GROUP BY country ORDER BY country",
            cut_id,
        )
        by_country = {r["country"]: r["n"] for r in rows}
        return sum(by_country.values()), by_country

    async def _seal_unnamed(self, conn: Conn, case_id: str, cut_id: int) -> tuple[int, int]:
        """Count, for this cut's cover, the supporters who signed without sharing their
        name (and did not also sign with it) since the previous cut."""
        row = await conn.fetchrow(
            f"WITH sealed AS (UPDATE {self.s}.unnamed_supporters u SET cut_id = $2 "
            "WHERE u.case_id = $1 AND u.cut_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
            f"{self.s}.signatures s WHERE s.case_id = u.case_id "
            "AND s.supporter_key = u.supporter_key) RETURNING country) "
            "SELECT count(*) AS n, count(DISTINCT country) AS m FROM sealed",
            case_id,
            cut_id,
        )
        assert row is not None
        return int(row["n"]), int(row["m"])

    async def _create_dossiers(
        self,
        conn: Conn,
        record: CaseRecord,
        kind: str,
        cut_id: int,
        count: int,
        by_country: dict[str, int],
    ) -> list[uuid.UUID]:
        case = record.case
        if kind == "signatures":
            targets = [(t.id, t.model_dump(mode="json")) for t in case.targets]
        else:  # the person(s) of the case; addressed in the case country's first target language
            language = case.targets[0].language
            person = {
                "id": case.id,
                "name": case.name,
                "language": language,
                "delivery": {"channel": "manual"},
            }
            targets = [(case.id, person)]
        # What the cover letter needs, fixed at the cut (a later campaign edit leaves it).
        sender = record.sender.model_dump(mode="json") if record.sender else None
        snapshot = orjson.dumps(
            {
                "name": case.name,
                "summary": case.summary,
                "request": case.request,
                "sender": sender,
                "campaign": record.campaign_name,
            }
        ).decode()
        ids = [uuid.uuid4() for _ in targets]
        await conn.executemany(
            f"INSERT INTO {self.s}.dossiers (id, cut_id, case_id, target_id, kind, target, "
            "case_snapshot, count, by_country) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                (
                    i,
                    cut_id,
                    case.id,
                    tid,
                    kind,
                    orjson.dumps(t).decode(),
                    snapshot,
                    count,
                    orjson.dumps(by_country).decode(),
                )
                for i, (tid, t) in zip(ids, targets, strict=True)
            ],
        )
        await conn.executemany(
            f"INSERT INTO {self.s}.outbox (dossier_id, status) VALUES ($1, 'sealed')",
            [(i,) for i in ids],
        )
        return ids
