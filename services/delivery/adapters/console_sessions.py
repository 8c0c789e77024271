"""The console's sessions in PostgreSQL, looked up by the hash of the cookie's token."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.delivery.domain.console import ConsoleSession, NewSession, token_hash


class PgConsoleSessions:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.table = f'"{schema}".console_sessions'

    async def open(self, new: NewSession, now: datetime) -> None:
        """Store the new session; expired ones go at the same time."""
        s = new.session
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(f"DELETE FROM {self.table} WHERE expires_at <= $1", now)
            await conn.execute(
                f"INSERT INTO {self.table} (token_hash, key_name, scopes, csrf_token, expires_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                new.token_hash,
                s.key_name,
                sorted(s.scopes),
                s.csrf_token,
                s.expires_at,
            )

    async def find(self, token: str, now: datetime) -> ConsoleSession | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT key_name, scopes, csrf_token, expires_at FROM {self.table} "
                "WHERE token_hash = $1",
                token_hash(token),
            )
        if row is None:
            return None
        session = ConsoleSession(
            row["key_name"], frozenset(row["scopes"]), row["csrf_token"], row["expires_at"]
        )
        return session if session.live_at(now) else None

    async def close(self, token: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(f"DELETE FROM {self.table} WHERE token_hash = $1", token_hash(token))
