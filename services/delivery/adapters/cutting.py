"""Cutting on PostgreSQL: one transaction assigns a case's pending items to a new cut (by
range for signatures, see cut_rows.py) and stores the dossiers the domain addressed
(services.delivery.domain.addressees) and their `sealed` events. A crash before COMMIT
leaves everything pending; after it, everything is sealed once."""

from __future__ import annotations

import asyncio
import uuid
import zlib
from dataclasses import dataclass

import asyncpg
import orjson

from services.delivery.adapters.cut_rows import (
    Span,
    hold_sealing,
    pending_signatures_sql,
    pending_span,
    seal_unnamed,
    tally,
)
from services.delivery.domain.addressees import CutOrder
from services.delivery.domain.ports import PendingCase
from shared.contracts.dossiers import DossierKind
from shared.db import Conn

TABLES = {DossierKind.SIGNATURES: "signatures", DossierKind.SOLIDARITY: "solidarity_messages"}


class PgCutter:
    def __init__(
        self, pool: asyncpg.Pool, schema: str, sealed: asyncio.Event | None = None
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.schema_sql = f'"{schema}"'
        self.sealed = sealed  # set once a cut made dossiers: the renderer starts on them

    async def pending(self) -> list[PendingCase]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                pending_signatures_sql(self.schema_sql) + " UNION ALL "
                "SELECT case_id, $2::text, count(*), min(received_at) "
                f"FROM {self.schema_sql}.solidarity_messages WHERE cut_id IS NULL GROUP BY case_id",
                DossierKind.SIGNATURES.value,
                DossierKind.SOLIDARITY.value,
            )
        return [
            PendingCase(r["case_id"], DossierKind(r["kind"]), r["n"], r["oldest"]) for r in rows
        ]

    async def cut(self, order: CutOrder) -> list[uuid.UUID]:
        """Seal the pending items of one case and kind; the ids of the new dossiers."""
        async with self.pool.acquire() as conn, conn.transaction():
            lock = zlib.crc32(f"{self.schema}:{order.case_id}:{order.kind}".encode())
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
            if order.kind is DossierKind.SIGNATURES:
                sealed = await self._seal_signatures(conn, order)
            else:
                sealed = await self._seal_messages(conn, order)
            # None: nothing pending after all, and the transaction changed nothing
            ids = await self._store_dossiers(conn, sealed, order) if sealed else []
        if ids and self.sealed is not None:
            self.sealed.set()
        return ids

    async def _seal_signatures(self, conn: Conn, order: CutOrder) -> _Sealed | None:
        """A new cut holding the case's pending signatures by their range of ids, and the
        supporters who signed without their name since the previous cut."""
        await hold_sealing(conn, self.schema)
        pending = await pending_span(conn, self.schema_sql, order.case_id)
        if pending is None:
            return None
        sealed = await self._new_cut(conn, order, pending[1], pending[0])
        further = await seal_unnamed(conn, self.schema_sql, order.case_id, sealed.cut_id)
        await conn.execute(
            f"UPDATE {self.schema_sql}.cuts SET further_supporters = $2, "
            "further_countries = $3 WHERE id = $1",
            sealed.cut_id,
            *further,
        )
        return sealed

    async def _seal_messages(self, conn: Conn, order: CutOrder) -> _Sealed | None:
        """A new cut whose id is written into each pending solidarity message (few)."""
        cut_id = (await self._new_cut(conn, order, {}, None)).cut_id
        table = TABLES[order.kind]
        moved = await conn.execute(
            f"UPDATE {self.schema_sql}.{table} SET cut_id = $1 "
            "WHERE case_id = $2 AND cut_id IS NULL",
            cut_id,
            order.case_id,
        )
        if moved.split()[-1] == "0":
            await conn.execute(f"DELETE FROM {self.schema_sql}.cuts WHERE id = $1", cut_id)
            return None
        count, by_country = await tally(conn, self.schema_sql, table, cut_id)
        await conn.execute(
            f"UPDATE {self.schema_sql}.cuts SET count = $2, by_country = $3 WHERE id = $1",
            cut_id,
            count,
            orjson.dumps(by_country).decode(),
        )
        return _Sealed(order.case_id, order.kind, cut_id, count, by_country)

    async def _new_cut(
        self, conn: Conn, order: CutOrder, by_country: dict[str, int], span: Span | None
    ) -> _Sealed:
        count = sum(by_country.values())
        cut_id = await conn.fetchval(
            f"INSERT INTO {self.schema_sql}.cuts (case_id, kind, reason, count, by_country, "
            "after_id, upto_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            order.case_id,
            order.kind.value,
            order.reason.value,
            count,
            orjson.dumps(by_country).decode(),
            span.after_id if span else None,
            span.upto_id if span else None,
        )
        return _Sealed(order.case_id, order.kind, cut_id, count, by_country)

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
