"""Issue 11, item 4: a key's rate limit, and the anonymous per-address one, hold across
every intake worker together (counted in the stack's Redis). Two workers of `plume serve
intake`, connections spread over both, a limit of 600 per window: at most 660 accepted in
the window. The window is shortened to WINDOW_S seconds (rate_window_s) so as not to wait
a minute; the arithmetic is the same."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.intake.conftest import (
    ServedWorkers,
    create_keys,
    isolated_settings,
    revoke_keys,
    serve_workers,
)
from tests.integration.intake.test_status_table import signature

pytestmark = pytest.mark.integration
WORKERS = 2
LIMIT = 600
WINDOW_S = 20.0
CONNECTIONS = 16


@dataclass
class Limited:
    served: ServedWorkers
    key: str


@pytest.fixture(scope="module")
async def limited(redis_url: str) -> AsyncIterator[Limited]:
    config = isolated_settings(
        redis_url=redis_url, rate_window_s=WINDOW_S, anonymous_rate_limit=LIMIT
    )
    keys = await create_keys(config.database_url, writer_limit=LIMIT)
    try:
        async with serve_workers(config, WORKERS) as served:
            yield Limited(served, keys.writer)
    finally:
        await revoke_keys(config.database_url, keys)


async def accepted_within_a_window(served: ServedWorkers, headers: dict[str, str]) -> int:
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


async def test_a_keys_limit_holds_across_two_workers(limited: Limited) -> None:
    accepted = await accepted_within_a_window(limited.served, {"X-API-Key": limited.key})
    print(f"key limited to {LIMIT} per {WINDOW_S:.0f} s, 2 workers: {accepted} accepted")
    assert LIMIT * 0.9 <= accepted <= LIMIT * 1.1


async def test_the_anonymous_limit_holds_across_two_workers(limited: Limited) -> None:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    accepted = await accepted_within_a_window(limited.served, {"X-Forwarded-For": address})
    print(f"address limited to {LIMIT} per {WINDOW_S:.0f} s, 2 workers: {accepted} accepted")
    assert LIMIT * 0.9 <= accepted <= LIMIT * 1.1
