"""Signatures waiting for their supporter's confirmation, in the intake's PostgreSQL
schema (PendingSignatures port)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.intake.domain.confirmations import HeldSignature, Mail, Pending
from shared import erasures
from shared.contracts.action_record import encode_record, record_of
from shared.contracts.actions import ActionEvent
from shared.db import migrate

MIGRATIONS = "services.intake.adapters.migrations"


class PgPendingSignatures:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.table = f'"{schema}".pending_signatures'
        self.schema = schema

    async def prepare(self) -> None:
        await migrate(self.pool, self.schema, MIGRATIONS)

    async def hold(self, held: HeldSignature, token: str) -> bool:
        event = held.event
        async with self.pool.acquire() as conn:
            status = await conn.execute(
                f"INSERT INTO {self.table} (action_id, case_id, supporter_key, event, email, "
                "language, token, token_hash, expires_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (action_id) DO NOTHING",
                event.action_id,
                event.case_id,
                event.supporter_key,
                encode_record(event).decode(),
                held.email,
                held.language,
                token,
                held.token_hash,
                held.expires_at,
            )
        return bool(status.endswith(" 1"))

    async def unmailed(self, limit: int) -> list[Mail]:
        # Claimed for a while, so that another intake process does not mail them too.
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"UPDATE {self.table} SET mail_lease_until = now() + interval '2 minutes' "
                f"WHERE action_id IN (SELECT action_id FROM {self.table} "
                "WHERE mailed_at IS NULL AND confirmed_at IS NULL AND expires_at > now() "
                "AND (mail_lease_until IS NULL OR mail_lease_until < now()) "
                "ORDER BY held_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
                "RETURNING action_id, case_id, email, language, token",
                limit,
            )
        return [Mail(**dict(row)) for row in rows]

    async def mailed(self, action_id: UUID) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"UPDATE {self.table} SET mailed_at = now(), email = NULL, token = NULL "
                "WHERE action_id = $1",
                action_id,
            )

    async def find(self, token_hash: str) -> Pending | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT case_id, event FROM {self.table} "
                "WHERE token_hash = $1 AND expires_at > now()",
                token_hash,
            )
        if row is None:
            return None
        event = record_of(ActionEvent.model_validate_json(row["event"])) if row["event"] else None
        return Pending(row["case_id"], event)

    async def confirm(self, token_hash: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"UPDATE {self.table} SET confirmed_at = now(), event = NULL, email = NULL, "
                "token = NULL WHERE token_hash = $1",
                token_hash,
            )

    async def expire(self, now: datetime) -> int:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"DELETE FROM {self.table} WHERE expires_at <= $1 RETURNING confirmed_at",
                now,
            )
        return sum(row["confirmed_at"] is None for row in rows)

    async def erase_supporters(self) -> int:
        """Intake's part of the erasures requested (shared.erasures): the signatures an
        erased supporter has waiting for confirmation go; returns how many erasures."""
        async with self.pool.acquire() as conn, conn.transaction():
            pending = await erasures.pending_for(conn, "intake")
            for erasure in pending:
                status = await conn.execute(
                    f"DELETE FROM {self.table} WHERE supporter_key = ANY($1::text[])",
                    erasure.subjects,
                )
                report = {"held_signatures_erased": int(status.split()[-1])}
                await erasures.done_by(conn, erasure.receipt_id, "intake", report)
        return len(pending)
