"""Where the local stack's services answer, and short-lived API keys for operator tools."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx

from shared import apikeys
from shared.db import create_pool
from shared.settings import InfraSettings


@dataclass(frozen=True)
class Endpoints:
    intake: str
    counter: str
    delivery: str

    @classmethod
    def from_env(cls) -> Endpoints:
        def url(name: str, port: int) -> str:
            return f"http://127.0.0.1:{os.environ.get(f'PLUME_{name}_PORT', port)}"

        return cls(url("INTAKE", 8001), url("COUNTER", 8002), url("DELIVERY", 8003))


@asynccontextmanager
async def temporary_keys(
    purpose: str, wanted: dict[str, set[apikeys.Scope]]
) -> AsyncIterator[dict[str, str]]:
    """Create one unlimited key per role for the duration of a run, then revoke them all.
    No connection stays open in between: the chaos run stops PostgreSQL meanwhile."""
    run = uuid.uuid4().hex[:8]
    names = {role: f"{purpose}-{role}-{run}" for role in wanted}
    async with _pool() as pool, pool.acquire() as conn:
        keys = {
            role: await apikeys.create_key(conn, names[role], scopes, 0)
            for role, scopes in wanted.items()
        }
    try:
        yield keys
    finally:
        async with _pool() as pool, pool.acquire() as conn:
            for name in names.values():
                await apikeys.revoke_key(conn, name)


def database_url() -> str:
    """PLUME_DATABASE_URL, else the local stack's on PLUME_PG_PORT (as `make` sets it), so
    a tool run straight from .venv finds the same database as `make up`."""
    if "PLUME_DATABASE_URL" in os.environ:
        return InfraSettings().database_url
    return f"postgresql://plume:plume@127.0.0.1:{os.environ.get('PLUME_PG_PORT', 5432)}/plume"


@asynccontextmanager
async def _pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url(), max_size=1)
    try:
        await apikeys.prepare(pool)
        yield pool
    finally:
        await pool.close()


async def wait_for_case(intake: str, case_id: str, within: float = 30) -> None:
    """Until intake's catalogue lists `case_id` (it follows the cases topic)."""
    async with httpx.AsyncClient() as client, asyncio.timeout(within):
        while True:
            cases = (await client.get(f"{intake}/v1/cases")).json()["cases"]
            if any(c.get("id") == case_id for c in cases):
                return
            await asyncio.sleep(0.1)
