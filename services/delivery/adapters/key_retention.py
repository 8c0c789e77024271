"""Retention of the supporters' data keys (domain/key_retention.py), run by delivery: it
alone knows whether a supporter's name or message is still in its rows. One batch per
transaction: the keys looked at are locked (intake, wanting one, waits, and makes a new key
if it was destroyed), then what delivery holds of them is read, then the expired go."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.delivery.domain.key_retention import KeyFacts, KeyRetention
from services.delivery.domain.ports import KeyExpiryBatch
from shared.data_keys import KeyUse, PgDataKeyStore
from shared.db import Conn

BATCH = 500


class PgKeyExpiry:
    def __init__(self, pool: asyncpg.Pool, schema: str, keys: PgDataKeyStore) -> None:
        self.pool = pool
        self.s = f'"{schema}"'
        self.keys = keys

    async def expire_after(
        self, retention: KeyRetention, now: datetime, after: KeyFacts | None
    ) -> KeyExpiryBatch:
        start = KeyUse(after.key_id, after.last_used_at, None) if after else None
        async with self.pool.acquire() as conn, conn.transaction():
            unused = await self.keys.unused(conn, retention.unused_since(now), start, BATCH)
            held = await self._held_by_delivery(conn, [key.key_id for key in unused])
            expired = retention.expired(unused, held, now)
            destroyed = await self.keys.destroy_ids(conn, expired) if expired else 0
        return KeyExpiryBatch(len(unused), destroyed, unused[-1] if unused else None)

    async def _held_by_delivery(self, conn: Conn, key_ids: list[str]) -> set[str]:
        """Those keys whose supporter has a name or message in delivery's rows (read after
        the keys were locked: a batch storing one has committed, or waits)."""
        rows = await conn.fetch(
            f"SELECT supporter_key FROM {self.s}.signatures "
            "WHERE supporter_key = ANY($1) AND name <> '' UNION "
            f"SELECT supporter_key FROM {self.s}.solidarity_messages "
            "WHERE supporter_key = ANY($1) AND (message <> '' OR first_name IS NOT NULL)",
            key_ids,
        )
        return {row["supporter_key"] for row in rows}
