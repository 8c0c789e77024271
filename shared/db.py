"""PostgreSQL pools and the per-schema migrations each service applies at start."""

from __future__ import annotations

import asyncio
import logging
import zlib
from importlib import resources
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# What `pool.acquire()` yields and what a plain connect returns: handlers accept either.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def unopened_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool that connects when awaited (`await pool`): a service builds its parts on it
    first, and opens it when it starts running them."""
    return asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=30)


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await unopened_pool(dsn, min_size, max_size)
    assert pool is not None
    return pool


def _migration_files(package: str) -> list[tuple[str, str]]:
    folder = resources.files(package)
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


async def lock_schema(conn: Conn, schema: str) -> None:
    """Hold, until the caller's transaction ends, the lock that serialises DDL on `schema`:
    CREATE ... IF NOT EXISTS is not safe against a concurrent twin (it can fail on
    pg_type's unique index when two processes start together)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", zlib.crc32(schema.encode()))


async def migrate(pool: asyncpg.Pool, schema: str, package: str) -> list[str]:
    """Apply, in name order and once each, the .sql files of `package` to `schema`.
    An advisory lock keeps two processes of one service from migrating at once."""
    applied: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await lock_schema(conn, schema)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            r["name"] for r in await conn.fetch(f'SELECT name FROM "{schema}".schema_migrations')
        }
        for name, sql in _migration_files(package):
            if name in done:
                continue
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            await conn.execute(sql)
            await conn.execute(f'INSERT INTO "{schema}".schema_migrations (name) VALUES ($1)', name)
            applied.append(name)
    if applied:
        log.info("migrated", extra={"schema": schema, "applied": applied})
    return applied


async def is_reachable(pool: asyncpg.Pool) -> bool:
    try:
        async with pool.acquire(timeout=1) as conn:
            await conn.fetchval("SELECT 1", timeout=1)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def close_pool(pool: asyncpg.Pool, within: float) -> None:
    """Close gracefully, or, past `within` (a server that no longer answers), at once."""
    try:
        await asyncio.wait_for(pool.close(), within)
    except TimeoutError:
        log.warning("database pool closed by force")
        pool.terminate()
