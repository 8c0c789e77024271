"""Read side of dossiers for the delivery team's API and console: manifests, pages of the
listing, cases at a glance, and the record (audit trail) of downloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import orjson

MANIFEST_COLUMNS = (
    "id, case_id, target_id, kind, count, by_country, created_at, status, files, "
    "acknowledged_by, acknowledged_at, ack_note, files_deleted_at"
)


def _utc(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def manifest(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(r["id"]),
        "case_id": r["case_id"],
        "target_id": r["target_id"],
        "kind": r["kind"],
        "count": r["count"],
        "by_country": orjson.loads(r["by_country"]),
        "created_at": _utc(r["created_at"]),
        "status": r["status"],
        "sha256": orjson.loads(r["files"]) if r["files"] else {},
        "acknowledged_by": r["acknowledged_by"],
        "acknowledged_at": _utc(r["acknowledged_at"]),
        "note": r["ack_note"],
        "files_deleted_at": _utc(r["files_deleted_at"]),
    }


class PgDossierQueries:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema_sql = f'"{schema}"'

    async def list_dossiers(
        self,
        case_id: str | None,
        status: str | None,
        limit: int = 1000,
        after: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        """Oldest first; `after` a dossier id, the page starts past it (keyset paging)."""
        table = f"{self.schema_sql}.dossiers"
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {MANIFEST_COLUMNS} FROM {table} "
                "WHERE ($1::text IS NULL OR case_id = $1) AND ($2::text IS NULL OR status = $2) "
                f"AND ($4::uuid IS NULL OR (created_at, id) > "
                f"(SELECT created_at, id FROM {table} WHERE id = $4)) "
                "ORDER BY created_at, id LIMIT $3",
                case_id,
                status,
                limit,
                after,
            )
        return [manifest(r) for r in rows]

    async def cases(self) -> list[dict[str, Any]]:
        """Per case: its dossiers and signatures by status, signatures by country."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT case_id, status, count(*) AS dossiers, sum(count) AS signatures "
                f"FROM {self.schema_sql}.dossiers GROUP BY case_id, status ORDER BY case_id"
            )
            countries = await conn.fetch(
                f"SELECT case_id, c.key AS country, sum(c.value::int) AS n "
                f"FROM {self.schema_sql}.dossiers, jsonb_each_text(by_country) c "
                "GROUP BY case_id, c.key ORDER BY case_id, n DESC, c.key"
            )
        found: dict[str, dict[str, Any]] = {}
        for r in rows:
            case = found.setdefault(
                r["case_id"], {"case_id": r["case_id"], "statuses": {}, "by_country": {}}
            )
            case["statuses"][r["status"]] = {"dossiers": r["dossiers"], "count": r["signatures"]}
        for r in countries:
            found[r["case_id"]]["by_country"][r["country"]] = r["n"]
        return list(found.values())

    async def downloads(
        self, dossier_id: uuid.UUID | None, limit: int, before: int | None = None
    ) -> list[dict[str, Any]]:
        """The audit trail, newest first; `before` a download id (keyset paging)."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT w.id, w.dossier_id, d.case_id, w.key_name, w.file, w.downloaded_at "
                f"FROM {self.schema_sql}.downloads w "
                f"JOIN {self.schema_sql}.dossiers d ON d.id = w.dossier_id "
                "WHERE ($1::uuid IS NULL OR w.dossier_id = $1) "
                "AND ($3::bigint IS NULL OR w.id < $3) ORDER BY w.id DESC LIMIT $2",
                dossier_id,
                limit,
                before,
            )
        return [
            {**dict(r), "dossier_id": str(r["dossier_id"]), "at": _utc(r["downloaded_at"])}
            for r in rows
        ]

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
