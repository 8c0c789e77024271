"""API keys: created and revoked with `plume keys`, checked by intake and delivery.
Only the SHA-256 of a key is stored; keys are 256-bit random, so a fast hash suffices."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from shared.db import Conn, migrate

SCHEMA = "access"
PREFIX = "plume_"
# Names the totals' `by_source` and the events give to actions sent without a key (and to
# intake's heartbeats): a key so named would be counted with them.
RESERVED_NAMES = frozenset({"web", "anonymous", "heartbeat"})
# NOTIFYed (by a trigger, 002_notify_key_changes.sql) on every change to the keys.
CHANGES_CHANNEL = "plume_api_keys"


class Scope(StrEnum):
    ACTIONS_WRITE = "actions:write"
    ACTIONS_BATCH = "actions:batch"
    ACTIONS_TALLY = "actions:tally"
    DOSSIERS_READ = "dossiers:read"
    DOSSIERS_WRITE = "dossiers:write"
    SUPPORTERS_ERASE = "supporters:erase"


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: frozenset[Scope]
    rate_limit: int  # actions per minute; 0 = unlimited

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


class KeyNameTaken(Exception):
    pass


def hash_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def prepare(pool: asyncpg.Pool) -> None:
    await migrate(pool, SCHEMA, "shared.migrations.access")


async def create_key(conn: Conn, name: str, scopes: set[Scope], rate_limit: int) -> str:
    """Store a new key under `name`; return the key itself, which is never stored."""
    if name in RESERVED_NAMES:
        raise KeyNameTaken(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    try:
        await conn.execute(
            "INSERT INTO access.api_keys (name, key_hash, scopes, rate_limit) "
            "VALUES ($1, $2, $3, $4)",
            name,
            hash_key(secret),
            sorted(s.value for s in scopes),
            rate_limit,
        )
    except asyncpg.UniqueViolationError as exc:
        raise KeyNameTaken(name) from exc
    return secret


async def revoke_key(conn: Conn, name: str) -> bool:
    """Revoke at once: the next lookup finds nothing, and the trigger wakes the intake
    processes holding the keys in memory (refused there within a second). False if unknown."""
    status = await conn.execute(
        "UPDATE access.api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name,
    )
    return status.endswith(" 1")


async def find_key(conn: Conn, secret: str) -> ApiKey | None:
    """The live (not revoked) key matching `secret`, or None."""
    row = await conn.fetchrow(
        "SELECT name, scopes, rate_limit FROM access.api_keys "
        "WHERE key_hash = $1 AND revoked_at IS NULL",
        hash_key(secret),
    )
    return None if row is None else _api_key(row)


async def live_keys(conn: Conn) -> dict[bytes, ApiKey]:
    """Every live key by the hash of its secret (the secrets themselves are never stored)."""
    rows = await conn.fetch(
        "SELECT key_hash, name, scopes, rate_limit FROM access.api_keys WHERE revoked_at IS NULL"
    )
    return {bytes(row["key_hash"]): _api_key(row) for row in rows}


def _api_key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(row["name"], frozenset(Scope(s) for s in row["scopes"]), row["rate_limit"])


async def list_keys(conn: Conn) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT name, scopes, rate_limit, created_at, revoked_at FROM access.api_keys ORDER BY name"
    )
