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


def local_infra() -> InfraSettings:
    """Kafka and PostgreSQL as `make up` runs them for this environment: the explicit URLs
    when set, else the addresses of PLUME_KAFKA_PORT / PLUME_PG_PORT (deploy/local)."""
    kafka = os.environ.get("PLUME_KAFKA_PORT", "9092")
    pg = os.environ.get("PLUME_PG_PORT", "5432")
    return InfraSettings(
        PLUME_KAFKA_BOOTSTRAP=os.environ.get("PLUME_KAFKA_BOOTSTRAP", f"127.0.0.1:{kafka}"),
        PLUME_DATABASE_URL=os.environ.get(
            "PLUME_DATABASE_URL", f"postgresql://plume:plume@127.0.0.1:{pg}/plume"
        ),
    )


@asynccontextmanager
async def temporary_keys(
    purpose: str, wanted: dict[str, set[apikeys.Scope]], database_url: str | None = None
) -> AsyncIterator[dict[str, str]]:
    """Create one unlimited key per role for the duration of a run, then revoke them all.
    No connection stays open in between: the chaos run stops PostgreSQL meanwhile."""
    run = uuid.uuid4().hex[:8]
    names = {role: f"{purpose}-{role}-{run}" for role in wanted}
    database_url = database_url or local_infra().database_url
    async with _pool(database_url) as pool, pool.acquire() as conn:
        keys = {
            role: await apikeys.create_key(conn, names[role], scopes, 0)
            for role, scopes in wanted.items()
        }
    try:
        yield keys
    finally:
        async with _pool(database_url) as pool, pool.acquire() as conn:
            for name in names.values():
                await apikeys.revoke_key(conn, name)


@asynccontextmanager
async def _pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=1)
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
