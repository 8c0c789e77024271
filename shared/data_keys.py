"""The supporters' data keys (shared/sealing.py): intake creates one per supporter the
first time they act, delivery opens what they sealed, an erasure destroys it. Kept in
PostgreSQL (schema `supporters`), wrapped by the master key; the port is `DataKeyStore`."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import asyncpg

from shared import sealing
from shared.db import Conn, migrate

SCHEMA = "supporters"
# NOTIFYed with the lookup of every destroyed key: caches of unwrapped keys drop it.
DESTROYED_CHANNEL = "plume_data_keys_destroyed"
# A key sealing actions has its use recorded (`last_used_at`) at least this often: a cache
# asks PostgreSQL again past it. Key retention (days, services/delivery) must far exceed it.
RECORD_USE_EVERY_S = 3_600.0


@dataclass(frozen=True, slots=True)
class DataKey:
    key_id: str  # the supporter's id on the wire: the action's supporter_key
    secret: bytes  # unwrapped: held in memory only


@dataclass(frozen=True)
class KeyUse:
    """What decides whether a key may go at the end of its retention."""

    key_id: str
    last_used_at: datetime  # when intake last sealed with it (or made it)
    contact_consented_at: datetime | None  # the supporter agreed to be contacted


class DataKeyStore(Protocol):
    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        """The key of each lookup (intake's keyed hash of an email), made when missing; its
        use is recorded now, and the consent to contact of the lookups in `contact`."""
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
        self.master = sealing.cipher(master)  # made once: it wraps every new key

    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        """One round trip: a key is offered for every lookup, kept where none exists; an
        existing one has its use (and consent to contact) recorded. A key being destroyed
        by retention is waited for (its row is locked), then a new one is made."""
        wanted = sorted(set(lookups))
        consenting = set(contact)
        # A random id as uuid4().hex has, for less than a third of its CPU.
        offered = {secrets.token_hex(16): sealing.new_data_key() for _ in wanted}
        ids = list(offered)
        wrapped = [sealing.wrap(self.master, key_id, offered[key_id]) for key_id in ids]
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "INSERT INTO supporters.data_keys AS k (key_id, lookup, wrapped, "
                "contact_consented_at) SELECT i, l, w, CASE WHEN c THEN now() END "
                "FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bool[]) AS t(i, l, w, c) "
                "ON CONFLICT (lookup) DO UPDATE SET last_used_at = now(), contact_consented_at "
                "= COALESCE(k.contact_consented_at, excluded.contact_consented_at) "
                "RETURNING key_id, lookup, wrapped",
                ids,
                wanted,
                wrapped,
                [lookup in consenting for lookup in wanted],
            )
        return self._unwrapped(rows, offered)

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

    async def recorded_use(self, lookup: str) -> dict[str, datetime | None] | None:
        """When the key of `lookup` was made and last used, and since when its supporter
        consents to contact (what the export shows); None without a key."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT created_at, last_used_at, contact_consented_at "
                "FROM supporters.data_keys WHERE lookup = $1",
                lookup,
            )
        return dict(row) if row else None

    async def unused(
        self, conn: Conn, before: datetime, after: KeyUse | None, limit: int
    ) -> list[KeyUse]:
        """Up to `limit` keys without consent to contact, last used before `before`, in
        order of last use from just past `after`. Each is locked until `conn`'s transaction
        ends (intake waits to use one, then makes a new key if it was destroyed); those
        locked now (a batch opening what they sealed) are skipped, being in use."""
        rows = await conn.fetch(
            "SELECT key_id, last_used_at, contact_consented_at FROM supporters.data_keys "
            "WHERE contact_consented_at IS NULL AND last_used_at < $1 "
            "AND (last_used_at, key_id) > ($2::timestamptz, $3::text) "
            "ORDER BY last_used_at, key_id LIMIT $4 FOR UPDATE SKIP LOCKED",
            before,
            after.last_used_at if after else datetime.min.replace(tzinfo=UTC),
            after.key_id if after else "",
            limit,
        )
        return [KeyUse(r["key_id"], r["last_used_at"], r["contact_consented_at"]) for r in rows]

    async def destroy_ids(self, conn: Conn, key_ids: Collection[str]) -> int:
        """Delete these keys (in `conn`'s transaction), announced as an erasure's is; how
        many were deleted."""
        destroyed: int = await conn.fetchval(
            "WITH gone AS (DELETE FROM supporters.data_keys WHERE key_id = ANY($1) "
            "RETURNING lookup) SELECT count(pg_notify($2, lookup)) FROM gone",
            list(key_ids),
            DESTROYED_CHANNEL,
        )
        return destroyed
