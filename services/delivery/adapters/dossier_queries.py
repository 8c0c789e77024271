"""Read side of dossiers for the delivery team's API, and the record of downloads."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson

MANIFEST_COLUMNS = "id, case_id, target_id, kind, count, by_country, created_at, status, files"


def manifest(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(r["id"]),
        "case_id": r["case_id"],
        "target_id": r["target_id"],
        "kind": r["kind"],
        "count": r["count"],
        "by_country": orjson.loads(r["by_country"]),
        "created_at": r["created_at"].isoformat().replace("+00:00", "Z"),
        "status": r["status"],
        "sha256": orjson.loads(r["files"]) if r["files"] else {},
    }


class PgDossierQueries:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema_sql = f'"{schema}"'

    async def list_dossiers(
        self, case_id: str | None, status: str | None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {MANIFEST_COLUMNS} FROM {self.schema_sql}.dossiers "
                "WHERE ($1::text IS NULL OR case_id = $1) AND ($2::text IS NULL OR status = $2) "
                "ORDER BY created_at, id LIMIT $3",
                case_id,
                status,
                limit,
            )
        return [manifest(r) for r in rows]

    async def get(self, dossier_id: uuid.UUID) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {MANIFEST_COLUMNS} FROM {self.schema_sql}.dossiers WHERE id = $1",
                dossier_id,
            )
        return manifest(row) if row else None

    async def many(self, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {MANIFEST_COLUMNS} FROM {self.schema_sql}.dossiers "
                "WHERE id = ANY($1::uuid[]) "
                "ORDER BY created_at, id",
                ids,
            )
        return [manifest(r) for r in rows]

    async def record_download(self, dossier_id: uuid.UUID, key_name: str, file: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"INSERT INTO {self.schema_sql}.downloads (dossier_id, key_name, file) "
                "VALUES ($1, $2, $3)",
                dossier_id,
                key_name,
                file,
            )
