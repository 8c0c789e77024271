"""`plume serve intake` with several workers: one listening socket per worker on the same
port (so the kernel spreads connections), none outliving its supervisor, and a revoked API
key refused by every worker within a second (each holds the keys in memory)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import httpx
import pytest

from shared import apikeys
from shared.db import create_pool
from tests.integration.intake.conftest import (
    OPEN_CASE,
    READY_IN_A_ROW,
    fresh_connections,
    isolated_settings,
    serve_workers,
)
from tests.integration.intake.conftest import ServedWorkers as Served
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
WORKERS = 2


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serve_workers(isolated_settings(), WORKERS) as served:
        yield served


def listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on 127.0.0.1:`port`, from the kernel's own table."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1] == wanted and row[3] == "0A")


async def refuses(url: str) -> bool:
    async with httpx.AsyncClient() as client:
        try:
            await client.get(f"{url}/healthz", timeout=1)
        except httpx.ConnectError:
            return True
        except httpx.TransportError:
            return False  # accepted by a worker still shutting down, then dropped
    return False


async def test_each_worker_listens_on_its_own_socket(served: Served) -> None:
    assert listening_sockets(served.config.port) == WORKERS


def mapped_files(pid: int) -> set[str]:
    """The files process `pid` has mapped: its interpreter, and every native library its
    imports loaded."""
    with open(f"/proc/{pid}/maps") as maps:
        return {line.split()[-1] for line in maps if len(line.split()) == 6}


async def test_the_supervisor_holds_none_of_the_service(served: Served) -> None:
    # Its workers build the app; the supervisor only watches them, so the libraries of the
    # app (asyncpg, pydantic, aiokafka's native parts) are not loaded in it at all.
    supervisor = mapped_files(served.process.pid)
    assert any("uvloop" in path or "python" in path for path in supervisor)
    assert not [p for p in supervisor if "asyncpg" in p or "pydantic_core" in p], supervisor
    workers = set().union(*(mapped_files(pid) for pid in worker_pids(served.process.pid)))
    assert any("asyncpg" in path for path in workers)


def worker_pids(supervisor: int) -> list[int]:
    with open(f"/proc/{supervisor}/task/{supervisor}/children") as children:
        return [int(pid) for pid in children.read().split()]


async def test_workers_end_with_a_killed_supervisor(served: Served) -> None:
    served.process.send_signal(signal.SIGKILL)
    await served.process.wait()
    await wait_until(lambda: refuses(served.url), within=15)
    assert listening_sockets(served.config.port) == 0


async def test_sigterm_stops_every_worker_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(served.process.wait(), 30) == 0
    assert listening_sockets(served.config.port) == 0


async def test_metrics_sum_over_the_workers(served: Served) -> None:
    requests = 20
    for _ in range(requests):
        # A new connection each time, so the kernel spreads them over the workers.
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{served.url}/v1/cases")).status_code == 200
    async with httpx.AsyncClient() as client:
        exposition = (await client.get(f"{served.url}/metrics")).text
    counted = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("plume_http_requests_total{") and 'route="/v1/cases"' in line
    ]
    assert sum(counted) == requests


async def test_a_revoked_key_is_refused_by_every_worker_within_a_second(served: Served) -> None:
    name = f"test-revoked-{uuid4().hex[:8]}"
    pool = await create_pool(served.config.database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            secret = await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_WRITE}, 0)
        before, after = await revoke_under_load(served.url, secret, pool, name)
    finally:
        await pool.close()
    assert before and set(before) == {202}  # the key works everywhere
    # Refused: 401, then 429 once the address has spent its unknown-key attempts (a revoked
    # key pays like a guess).
    refused = {401, 429}
    assert {status for _, status in after} <= {202, *refused}, after
    taken = [sent_at for sent_at, status in after if status == 202]
    print(f"\nlast request taken was sent {max(taken, default=-1):+.3f} s after revoking")
    late = [status for sent_at, status in after if sent_at >= 1.0]
    assert len(late) >= 2 * READY_IN_A_ROW and set(late) <= refused, after
    assert 401 in {status for _, status in after}


async def revoke_under_load(
    url: str, secret: str, pool: asyncpg.Pool, name: str, pollers: int = 4, warmup: int = 20
) -> tuple[list[int], list[tuple[float, int]]]:
    """Post with `secret` on new connections from `pollers` loops, `warmup` times each,
    then revoke it while they go on for 2 s. Returns the statuses answered before the
    revocation began, and (seconds from its start to the sending, status) of the others."""
    answers: list[tuple[float | None, int]] = []
    revoked_at: float | None = None

    async def poll() -> None:
        async with fresh_connections() as client:
            while revoked_at is None or time.monotonic() < revoked_at + 2.0:
                sent, since = time.monotonic(), revoked_at
                answer = await client.post(
                    f"{url}/v1/actions",
                    json={
                        "case_id": OPEN_CASE,
                        "type": "signature",
                        "supporter": {"name": "Awa Diallo", "email": "a@example.org"},
                        "consent": {"share_name_with_target": True, "contact": False},
                    },
                    headers={"X-API-Key": secret},
                )
                answers.append((None if since is None else sent - since, answer.status_code))

    async def warmed() -> int:
        return len(answers)

    loops = [asyncio.create_task(poll()) for _ in range(pollers)]
    await wait_until(warmed, lambda n: n >= pollers * warmup, within=30)
    before = [status for _, status in answers]
    async with pool.acquire() as conn:
        revoked_at = time.monotonic()  # before the commit: the strictest clock
        assert await apikeys.revoke_key(conn, name)
    await asyncio.gather(*loops)
    after = [(since, status) for since, status in answers[len(before) :]]
    sent_after = [(since if since is not None else -1.0, status) for since, status in after]
    return before, sent_after
