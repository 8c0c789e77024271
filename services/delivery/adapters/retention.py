"""Retention of dossier files: a dossier acknowledged long enough ago loses its files
(names of signers, messages); once every dossier of a cut has, the names and messages
of that cut are blanked in the database too. Manifests and counts stay."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from services.delivery.adapters.cut_rows import rows_of, span_of

BATCH = 200


class PgFileRetention:
    def __init__(self, pool: asyncpg.Pool, schema: str, folder: Path) -> None:
        self.pool = pool
        self.schema_sql = f'"{schema}"'
        self.folder = folder

    async def expire(self, acknowledged_before: datetime) -> int:
        """Delete the files of up to BATCH dossiers acknowledged before that moment;
        return how many. Files go first, then the mark: a crash in between is redone."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT id, cut_id FROM {self.schema_sql}.dossiers "
                "WHERE status = 'acknowledged' AND files_deleted_at IS NULL "
                "AND acknowledged_at < $1 ORDER BY acknowledged_at LIMIT $2",
                acknowledged_before,
                BATCH,
            )
        for row in rows:
            await asyncio.to_thread(self._delete_folder, row["id"])
            await self._mark_deleted(row["id"], row["cut_id"])
        return len(rows)

    def _delete_folder(self, dossier_id: uuid.UUID) -> None:
        shutil.rmtree(self.folder / str(dossier_id), ignore_errors=True)

    async def _mark_deleted(self, dossier_id: uuid.UUID, cut_id: int) -> None:
        schema = self.schema_sql
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"UPDATE {schema}.dossiers SET files_deleted_at = now() WHERE id = $1",
                dossier_id,
            )
            kept = await conn.fetchval(
                f"SELECT count(*) FROM {schema}.dossiers "
                "WHERE cut_id = $1 AND files_deleted_at IS NULL",
                cut_id,
            )
            if kept == 0:  # no target's dossier still needs the cut's names
                where, args = rows_of(await span_of(conn, schema, cut_id) or cut_id)
                await conn.execute(f"UPDATE {schema}.signatures SET name = '' WHERE {where}", *args)
                await conn.execute(
                    f"UPDATE {schema}.solidarity_messages SET first_name = NULL, message = '' "
                    "WHERE cut_id = $1",
                    cut_id,
                )
