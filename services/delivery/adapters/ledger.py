"""TransmissionLedger on PostgreSQL: the dossiers table and its outbox, one transaction
per change so an event is queued exactly when its change commits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import orjson

from services.delivery.domain.ports import NotFound, Outgoing, StatusEvent
from services.delivery.domain.status import DossierStatus, check_transition
from shared.contracts.dossiers import DossierKind
from shared.db import Conn


class PgTransmissionLedger:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema_sql = f'"{schema}"'

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"UPDATE {self.schema_sql}.dossiers d SET attempts = attempts + 1, "
                "next_attempt_at = $2::timestamptz + $3::interval WHERE d.id IN ("
                f"SELECT id FROM {self.schema_sql}.dossiers WHERE status IN ('sealed', 'failed') "
                "AND rendered_at IS NOT NULL AND next_attempt_at <= $2 "
                "AND target->'delivery'->>'channel' IN ('email', 'webhook') "
                "ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
                "RETURNING id, case_id, target_id, kind, target, attempts, files",
                limit,
                now,
                lease,
            )
        return [_outgoing(r) for r in rows]

    async def record_sent(self, dossier_id: uuid.UUID) -> None:
        await self._move(dossier_id, DossierStatus.SENT, None, None)

    async def record_failed(self, dossier_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        await self._move(dossier_id, DossierStatus.FAILED, error, retry_at)

    async def acknowledge(self, dossier_id: uuid.UUID, by: str, note: str | None) -> DossierStatus:
        await self._move(dossier_id, DossierStatus.ACKNOWLEDGED, None, None, (by, note))
        return DossierStatus.ACKNOWLEDGED

    async def status_of(self, dossier_id: uuid.UUID) -> DossierStatus:
        async with self.pool.acquire() as conn:
            status = await conn.fetchval(
                f"SELECT status FROM {self.schema_sql}.dossiers WHERE id = $1", dossier_id
            )
        if status is None:
            raise NotFound(str(dossier_id))
        return DossierStatus(status)

    async def _move(
        self,
        dossier_id: uuid.UUID,
        wanted: DossierStatus,
        error: str | None,
        retry_at: datetime | None,
        acknowledged: tuple[str, str | None] | None = None,
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT status, attempts FROM {self.schema_sql}.dossiers WHERE id = $1 FOR UPDATE",
                dossier_id,
            )
            if row is None:
                raise NotFound(str(dossier_id))
            check_transition(DossierStatus(row["status"]), wanted)
            await conn.execute(
                f"UPDATE {self.schema_sql}.dossiers SET status = $2, last_error = $3, "
                "next_attempt_at = coalesce($4, next_attempt_at), updated_at = now() "
                "WHERE id = $1",
                dossier_id,
                wanted.value,
                error,
                retry_at,
            )
            if acknowledged:
                await conn.execute(
                    f"UPDATE {self.schema_sql}.dossiers SET acknowledged_by = $2, "
                    "ack_note = $3, acknowledged_at = now() WHERE id = $1",
                    dossier_id,
                    *acknowledged,
                )
            await queue_event(conn, self.schema_sql, dossier_id, wanted, row["attempts"], error)

    async def unpublished(self, limit: int) -> list[StatusEvent]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT o.id, o.dossier_id, d.case_id, d.target_id, d.kind, o.status, d.count, "
                f"o.attempts, o.error, o.created_at FROM {self.schema_sql}.outbox o "
                f"JOIN {self.schema_sql}.dossiers d ON d.id = o.dossier_id "
                "WHERE o.published_at IS NULL ORDER BY o.id LIMIT $1",
                limit,
            )
        return [
            StatusEvent(
                r["id"],
                r["dossier_id"],
                r["case_id"],
                r["target_id"],
                DossierKind(r["kind"]),
                DossierStatus(r["status"]),
                r["count"],
                r["attempts"],
                r["error"],
                r["created_at"],
            )
            for r in rows
        ]

    async def mark_published(self, event_ids: list[int]) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"UPDATE {self.schema_sql}.outbox SET published_at = now() "
                "WHERE id = ANY($1::bigint[])",
                event_ids,
            )


async def queue_event(
    conn: Conn,
    schema_sql: str,
    dossier_id: uuid.UUID,
    status: DossierStatus,
    attempts: int,
    error: str | None,
) -> None:
    await conn.execute(
        f"INSERT INTO {schema_sql}.outbox (dossier_id, status, attempts, error) "
        "VALUES ($1, $2, $3, $4)",
        dossier_id,
        status.value,
        attempts,
        error,
    )


def _outgoing(r: asyncpg.Record) -> Outgoing:
    target = orjson.loads(r["target"])
    delivery = target.get("delivery", {})
    destination = delivery.get("address") or delivery.get("url") or ""
    return Outgoing(
        r["id"],
        r["case_id"],
        r["target_id"],
        DossierKind(r["kind"]),
        delivery.get("channel", "manual"),
        destination,
        r["attempts"],
        orjson.loads(r["files"]) if r["files"] else {},
    )
