"""The supporters' data keys (shared/sealing.py): intake creates one per supporter the
first time they act, delivery opens what they sealed, an erasure destroys it. Kept in
PostgreSQL (schema `supporters`), wrapped by the master key; the port is `DataKeyStore`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import uuid4

import asyncpg

from shared import sealing
from shared.db import Conn, migrate

SCHEMA = "supporters"
# NOTIFYed with the lookup of every destroyed key: caches of unwrapped keys drop it.
DESTROYED_CHANNEL = "plume_data_keys_destroyed"


@dataclass(frozen=True)
class DataKey:
    key_id: str  # the supporter's id on the wire: the action's supporter_key
    secret: bytes  # unwrapped: held in memory only


class DataKeyStore(Protocol):
    async def for_supporters(self, lookups: Collection[str]) -> dict[str, DataKey]:
        """The key of each lookup (intake's keyed hash of an email), made when missing."""
        ...

    async def held(self, conn: Conn, key_ids: Collection[str]) -> dict[str, bytes]:
        """The unwrapped keys of those ids that still exist. Each is locked until `conn`'s
        transaction ends, so an erasure waits for what was opened with it to commit (and
        then finds it to scrub)."""
        ...

    async def destroy(self, conn: Conn, lookup: str) -> str | None:
        """Delete the key of `lookup` (in `conn`'s transaction); its id, or None if none."""
        ...

    async def find(self, lookup: str) -> DataKey | None:
        """The key of `lookup`, or None (never made, or destroyed); never makes one."""
        ...


async def prepare(pool: asyncpg.Pool) -> None:
    await migrate(pool, SCHEMA, "shared.migrations.supporters")


class PgDataKeyStore:
    def __init__(self, pool: asyncpg.Pool, master: bytes) -> None:
        self.pool = pool
        self.master = master

    async def for_supporters(self, lookups: Collection[str]) -> dict[str, DataKey]:
        """One round trip: a key is offered for every lookup, kept where none exists."""
        wanted = sorted(set(lookups))
        offered = {uuid4().hex: sealing.new_data_key() for _ in wanted}
        ids = list(offered)
        wrapped = [sealing.wrap(self.master, key_id, offered[key_id]) for key_id in ids]
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "WITH made AS (INSERT INTO supporters.data_keys (key_id, lookup, wrapped) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) "
                "ON CONFLICT (lookup) DO NOTHING RETURNING key_id, lookup, wrapped) "
                "SELECT key_id, lookup, wrapped FROM made UNION ALL "
                "SELECT key_id, lookup, wrapped FROM supporters.data_keys WHERE lookup = ANY($2)",
                ids,
                wanted,
                wrapped,
            )
            found = self._unwrapped(rows, offered)
            missing = [lookup for lookup in wanted if lookup not in found]
            if missing:  # made by a racing twin after this statement's snapshot
                found.update(await self._find(conn, missing))
        return found

    async def _find(self, conn: Conn, lookups: list[str]) -> dict[str, DataKey]:
        rows = await conn.fetch(
            "SELECT key_id, lookup, wrapped FROM supporters.data_keys WHERE lookup = ANY($1)",
            lookups,
        )
        return self._unwrapped(rows)

    def _unwrapped(
        self, rows: list[asyncpg.Record], made: Mapping[str, bytes] | None = None
    ) -> dict[str, DataKey]:
        """The key of each row; those `made` here (by id) need no unwrapping."""
        master, made = self.master, made or {}
        return {
            r["lookup"]: DataKey(
                r["key_id"],
                made.get(r["key_id"]) or sealing.unwrap(master, r["key_id"], r["wrapped"]),
            )
            for r in rows
        }

    async def held(self, conn: Conn, key_ids: Collection[str]) -> dict[str, bytes]:
        if not key_ids:
            return {}
        rows = await conn.fetch(
            "SELECT key_id, wrapped FROM supporters.data_keys WHERE key_id = ANY($1) "
            "ORDER BY key_id FOR KEY SHARE",
            sorted(set(key_ids)),
        )
        return {r["key_id"]: sealing.unwrap(self.master, r["key_id"], r["wrapped"]) for r in rows}

    async def destroy(self, conn: Conn, lookup: str) -> str | None:
        key_id: str | None = await conn.fetchval(
            "DELETE FROM supporters.data_keys WHERE lookup = $1 RETURNING key_id", lookup
        )
        await conn.execute("SELECT pg_notify($1, $2)", DESTROYED_CHANNEL, lookup)
        return key_id

    async def find(self, lookup: str) -> DataKey | None:
        async with self.pool.acquire() as conn:
            return (await self._find(conn, [lookup])).get(lookup)
