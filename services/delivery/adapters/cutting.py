"""Cutting on PostgreSQL: one transaction assigns a case's pending items to a new cut and
stores the dossiers the domain addressed (services.delivery.domain.addressees) and their
`sealed` events. A crash before COMMIT leaves everything pending; after it, everything is
sealed once."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass

import asyncpg
import orjson

from services.delivery.domain.addressees import CutOrder
from services.delivery.domain.ports import PendingCase
from shared.contracts.dossiers import DossierKind
from shared.db import Conn

TABLES = {DossierKind.SIGNATURES: "signatures", DossierKind.SOLIDARITY: "solidarity_messages"}


async def tally(conn: Conn, schema_sql: str, table: str, cut_id: int) -> tuple[int, dict[str, int]]:
    """A cut's items: how many, and how many per country."""
    rows = await conn.fetch(
        f"SELECT country, count(*) AS n FROM {schema_sql}.{table} WHERE cut_id = $1 "
        "GROUP BY country ORDER BY country",
        cut_id,
    )
    by_country = {r["country"]: r["n"] for r in rows}
    return sum(by_country.values()), by_country


class PgCutter:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema
        self.schema_sql = f'"{schema}"'

    async def pending(self) -> list[PendingCase]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT case_id, $1::text AS kind, count(*) AS n, min(received_at) AS oldest "
                f"FROM {self.schema_sql}.signatures WHERE cut_id IS NULL GROUP BY case_id "
                "UNION ALL SELECT case_id, $2::text, count(*), min(received_at) "
                f"FROM {self.schema_sql}.solidarity_messages WHERE cut_id IS NULL GROUP BY case_id",
                DossierKind.SIGNATURES.value,
                DossierKind.SOLIDARITY.value,
            )
        return [
            PendingCase(r["case_id"], DossierKind(r["kind"]), r["n"], r["oldest"]) for r in rows
        ]

    async def cut(self, order: CutOrder) -> list[uuid.UUID]:
        """Seal the pending items of one case and kind; the ids of the new dossiers."""
        case_id, kind, table = order.case_id, order.kind, TABLES[order.kind]
        async with self.pool.acquire() as conn, conn.transaction():
            lock = zlib.crc32(f"{self.schema}:{case_id}:{kind}".encode())
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
            cut_id = await conn.fetchval(
                f"INSERT INTO {self.schema_sql}.cuts (case_id, kind, reason, count, by_country) "
                "VALUES ($1, $2, $3, 0, '{}') RETURNING id",
                case_id,
                kind.value,
                order.reason.value,
            )
            moved = await conn.execute(
                f"UPDATE {self.schema_sql}.{table} SET cut_id = $1 "
                "WHERE case_id = $2 AND cut_id IS NULL",
                cut_id,
                case_id,
            )
            if moved.split()[-1] == "0":
                # Nothing pending after all: undo the empty cut, keep the transaction's
                # outcome equal to doing nothing.
                await conn.execute(f"DELETE FROM {self.schema_sql}.cuts WHERE id = $1", cut_id)
                return []
            count, by_country = await tally(conn, self.schema_sql, table, cut_id)
            further = (
                await self._seal_unnamed(conn, case_id, cut_id)
                if kind is DossierKind.SIGNATURES
                else (0, 0)
            )
            await conn.execute(
                f"UPDATE {self.schema_sql}.cuts SET count = $2, by_country = $3, "
                "further_supporters = $4, further_countries = $5 WHERE id = $1",
                cut_id,
                count,
                orjson.dumps(by_country).decode(),
                *further,
            )
            sealed = _Sealed(case_id, kind, cut_id, count, by_country)
            return await self._store_dossiers(conn, sealed, order)

    async def _seal_unnamed(self, conn: Conn, case_id: str, cut_id: int) -> tuple[int, int]:
        """Count, for this cut's cover, the supporters who signed without sharing their
        name (and did not also sign with it) since the previous cut."""
        row = await conn.fetchrow(
            f"WITH sealed AS (UPDATE {self.schema_sql}.unnamed_supporters u SET cut_id = $2 "
            "WHERE u.case_id = $1 AND u.cut_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
            f"{self.schema_sql}.signatures s WHERE s.case_id = u.case_id "
            "AND s.supporter_key = u.supporter_key) RETURNING country) "
            "SELECT count(*) AS n, count(DISTINCT country) AS m FROM sealed",
            case_id,
            cut_id,
        )
        assert row is not None
        return int(row["n"]), int(row["m"])

    async def _store_dossiers(
        self, conn: Conn, sealed: _Sealed, order: CutOrder
    ) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in order.addressees]
        snapshot_json = orjson.dumps(order.snapshot).decode()
        by_country = orjson.dumps(sealed.by_country).decode()
        await conn.executemany(
            f"INSERT INTO {self.schema_sql}.dossiers (id, cut_id, case_id, target_id, kind, "
            "target, case_snapshot, count, by_country) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                (
                    dossier_id,
                    sealed.cut_id,
                    sealed.case_id,
                    addressee.target_id,
                    sealed.kind.value,
                    orjson.dumps(addressee.target).decode(),
                    snapshot_json,
                    sealed.count,
                    by_country,
                )
                for dossier_id, addressee in zip(ids, order.addressees, strict=True)
            ],
        )
        await conn.executemany(
            f"INSERT INTO {self.schema_sql}.outbox (dossier_id, status) VALUES ($1, 'sealed')",
            [(i,) for i in ids],
        )
        return ids


@dataclass(frozen=True)
class _Sealed:
    case_id: str
    kind: DossierKind
    cut_id: int
    count: int
    by_country: dict[str, int]
