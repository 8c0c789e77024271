"""Make a consuming service's store fail from outside, the ways a real outage does, and
stop a service process as its supervisor would (SIGTERM, then a deadline)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import asyncpg
import httpx

from tests.waiting import wait_until

# Awaits True once the service (its log file given) is seen stuck on the table.
SeenStuck = Callable[[Path], Awaitable[bool]]
# (database_url, schema, table) -> a block during which that table fails
Stuck = Callable[[str, str, str], AbstractAsyncContextManager[SeenStuck]]


@contextlib.asynccontextmanager
async def table_renamed(database_url: str, schema: str, table: str) -> AsyncIterator[SeenStuck]:
    """The table is missing (UndefinedTableError: a deployment's fault, transient for
    a consumer: it retries, and logs each retry) until the block ends."""

    async def retrying(log: Path) -> bool:
        text = await asyncio.to_thread(log.read_text, errors="replace")
        return "batch not committed, will retry" in text

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'ALTER TABLE "{schema}".{table} RENAME TO {table}_away')
        yield retrying
    finally:
        await conn.execute(f'ALTER TABLE "{schema}".{table}_away RENAME TO {table}')
        await conn.close()


@contextlib.asynccontextmanager
async def table_locked(database_url: str, schema: str, table: str) -> AsyncIterator[SeenStuck]:
    """Every statement on the table hangs (a lock held elsewhere) until the block ends."""
    conn = await asyncpg.connect(database_url)

    async def hung(log: Path) -> bool:
        # pg_stat_activity holds still within a transaction: clear its snapshot first
        waiting: int = await conn.fetchval(
            "SELECT pg_stat_clear_snapshot(), count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND query LIKE $1",
            f'%"{schema}".{table}%',
            column=1,
        )
        return waiting > 0

    try:
        async with conn.transaction():
            await conn.execute(f'LOCK TABLE "{schema}".{table} IN ACCESS EXCLUSIVE MODE')
            yield hung
    finally:
        await conn.close()


async def stopped_within(process: subprocess.Popen[bytes], deadline_s: float) -> float:
    """SIGTERM, then the seconds until the process exited; SIGKILL and fail past
    `deadline_s` (what `make down` would do, later)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, deadline_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError(f"still running {deadline_s} s after SIGTERM") from None
    return time.monotonic() - started


async def is_ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=5.0) as client:
        return (await client.get(f"{url}/readyz")).status_code == 200


async def not_ready_because(url: str, reason: str = "committed nothing") -> str:
    """Wait for /readyz to answer 503 with `reason` in its problem's detail (a slow
    Kafka round trip on a loaded machine may answer another 503 first); return it."""

    async def probe() -> httpx.Response:
        async with httpx.AsyncClient(timeout=5.0) as client:
            return await client.get(f"{url}/readyz")

    def stuck(answer: httpx.Response) -> bool:
        return answer.status_code == 503 and reason in answer.json()["detail"]

    answer = await wait_until(probe, stuck, within=30.0)
    assert answer.headers["content-type"] == "application/problem+json"
    detail: str = answer.json()["detail"]
    return detail


async def scrape(url: str, name: str) -> float:
    """Sum of a metric's samples (all labels) from the service's /metrics."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        text = (await client.get(f"{url}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            with contextlib.suppress(ValueError):
                total += float(line.rsplit(" ", 1)[1])
    return total
