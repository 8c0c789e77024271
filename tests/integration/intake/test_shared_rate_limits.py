"""Issue 11, item 4: a key's rate limit, and the anonymous per-address one, hold across
every intake worker together (counted in the stack's Redis). Two workers of `plume serve
intake`, connections spread over both, a limit of 600 per window: at most 660 accepted in
the window. The window is shortened to WINDOW_S seconds (rate_window_s) so as not to wait
a minute; the arithmetic is the same."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.intake.settings import IntakeSettings
from shared import apikeys
from shared.db import create_pool
from tests.integration.intake.conftest import (
    campaign_for_tests,
    drop_topics,
    isolated_settings,
    prepare_topics,
    process_env,
    wait_ready,
)
from tests.integration.intake.test_status_table import signature

pytestmark = pytest.mark.integration
WORKERS = 2
LIMIT = 600
WINDOW_S = 20.0
CONNECTIONS = 16


@dataclass
class Served:
    config: IntakeSettings
    process: asyncio.subprocess.Process
    key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"


@pytest.fixture(scope="module")
async def served(redis_url: str) -> AsyncIterator[Served]:
    config = isolated_settings(
        redis_url=redis_url, rate_window_s=WINDOW_S, anonymous_rate_limit=LIMIT
    )
    await prepare_topics(config, campaign_for_tests())
    key_name = f"test-shared-limit-{secrets.token_hex(4)}"
    key = await limited_key(config.database_url, key_name)
    env = process_env(config, PLUME_INTAKE_WORKERS=str(WORKERS))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from services.cli import main; main(['serve', 'intake'])", env=env
    )
    served = Served(config, process, key)
    try:
        async with httpx.AsyncClient() as client:
            await wait_ready(
                client, served.url, within=60, exited=lambda: process.returncode is not None
            )
        yield served
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await revoke_key(config.database_url, key_name)
        await drop_topics(config)


async def limited_key(database_url: str, name: str) -> str:
    pool = await create_pool(database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        async with pool.acquire() as conn:
            return await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_WRITE}, LIMIT)
    finally:
        await pool.close()


async def revoke_key(database_url: str, name: str) -> None:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            await apikeys.revoke_key(conn, name)
    finally:
        await pool.close()


async def accepted_within_a_window(served: Served, headers: dict[str, str]) -> int:
    """POST from CONNECTIONS connections of their own for one window; the 202s of requests
    sent within it. Checks before closing them that both workers hold some."""
    deadline = time.monotonic() + WINDOW_S
    statuses: list[int] = []

    async def one_connection(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            answer = await client.post("/v1/actions", json=signature(), headers=headers)
            statuses.append(answer.status_code)

    limits = httpx.Limits(max_connections=1)
    clients = [
        httpx.AsyncClient(base_url=served.url, timeout=30, limits=limits)
        for _ in range(CONNECTIONS)
    ]
    try:
        await asyncio.gather(*(one_connection(client) for client in clients))
        held = connections_per_child(served.process.pid, served.config.port)
        assert len([n for n in held if n]) == WORKERS, held  # both workers served some
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    assert set(statuses) <= {202, 429}, sorted(set(statuses))
    # Asked for more than the limit (else the limit was not put to the test).
    assert statuses.count(429) > 0, f"only {len(statuses)} requests in the window"
    return statuses.count(202)


def connections_per_child(supervisor: int, port: int) -> list[int]:
    """Established connections to `port` each child process of `supervisor` holds (from
    /proc): its workers, and multiprocessing's helper that holds none."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    wanted = f":{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    inodes = {row[9] for row in rows if row[1].endswith(wanted) and row[3] == "01"}
    counts = []
    for pid in children:
        fds = Path(f"/proc/{pid}/fd")
        links = [os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()]
        counts.append(sum(1 for link in links if link[8:-1] in inodes))
    return counts


async def test_a_keys_limit_holds_across_two_workers(served: Served) -> None:
    accepted = await accepted_within_a_window(served, {"X-API-Key": served.key})
    print(f"key limited to {LIMIT} per {WINDOW_S:.0f} s, 2 workers: {accepted} accepted")
    assert LIMIT * 0.9 <= accepted <= LIMIT * 1.1


async def test_the_anonymous_limit_holds_across_two_workers(served: Served) -> None:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    accepted = await accepted_within_a_window(served, {"X-Forwarded-For": address})
    print(f"address limited to {LIMIT} per {WINDOW_S:.0f} s, 2 workers: {accepted} accepted")
    assert LIMIT * 0.9 <= accepted <= LIMIT * 1.1
