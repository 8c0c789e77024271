"""`plume serve intake` with several workers: one listening socket per worker on the same
port (so the kernel spreads connections), none outliving its supervisor."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.intake.conftest import ServedWorkers as Served
from tests.integration.intake.conftest import isolated_settings, serve_workers
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
