"""/readyz tells the truth about the counter's background work: a dead consumer loop and a
dead catalogue follower (killed through the running counter's supervisor) turn it 503,
naming them, until the supervisor has them running again; and counting stays exact
across the restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from services.counter import bootstrap
from services.counter.settings import CounterSettings
from shared.supervisor import Supervisor
from tests.integration.counter.conftest import MakeSettings
from tests.integration.counter.helpers import produce, stored_totals, wait_for_totals
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
RESTART_PAUSE_S = 3.0  # how long a killed task stays down: time for the test to see it


async def readiness(client: httpx.AsyncClient) -> tuple[int, str]:
    answer = await client.get("/readyz")
    detail = answer.json().get("detail", "") if answer.status_code != 200 else ""
    return answer.status_code, detail


async def served_total(client: httpx.AsyncClient) -> int:
    total: int = (await client.get("/v1/totals")).json()["total"]
    return total


@asynccontextmanager
async def served(
    settings: CounterSettings,
) -> AsyncIterator[tuple[bootstrap.Counter, httpx.AsyncClient]]:
    """A counter running in this test's event loop (its supervisor within reach), ready."""
    counter = bootstrap.build(settings, supervisor=Supervisor("counter", RESTART_PAUSE_S))
    transport = httpx.ASGITransport(app=counter.app)
    async with (
        bootstrap.running(counter),
        httpx.AsyncClient(transport=transport, base_url="http://counter") as client,
    ):
        await wait_until(lambda: readiness(client), lambda r: r[0] == 200)
        yield counter, client


async def test_killed_consumer_and_catalogue_turn_readyz_503_then_it_recovers_counting_exactly(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=2, max_batch=500)
    async with served(settings) as (counter, client):
        cases = ("case-a", "case-b", "case-c")
        await produce(settings, [action(case_id=cases[i % 3]) for i in range(6_000)])
        await wait_until(lambda: stored_totals(settings), lambda t: sum(t.values()) > 0)

        for name in ("consumer", "catalogue"):  # mid-stream, as likely as not inside a batch
            task = counter.supervisor.task(name)
            assert task is not None, name
            task.cancel()
        _, detail = await wait_until(lambda: readiness(client), lambda r: r[0] == 503)
        assert "consumer is down" in detail and "catalogue is down" in detail, detail
        await produce(settings, [action(case_id=case, count=10) for case in cases])

        await wait_until(lambda: readiness(client), lambda r: r[0] == 200)
        await wait_for_totals(settings, {case: 2_010 for case in cases})
        await wait_until(lambda: served_total(client), lambda total: total == 6_030)


async def test_a_dead_snapshot_refresh_is_not_ready(make_settings: MakeSettings) -> None:
    async with served(await make_settings(partitions=1)) as (counter, client):
        task = counter.supervisor.task("snapshot")
        assert task is not None
        task.cancel()
        _, detail = await wait_until(lambda: readiness(client), lambda r: r[0] == 503)
        assert "snapshot is down" in detail, detail
        await wait_until(lambda: readiness(client), lambda r: r[0] == 200)
