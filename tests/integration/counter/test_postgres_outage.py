"""PostgreSQL stopped under a running counter: nothing is committed, lag grows, the
process stays up (no crash loop), and the totals are exact once PostgreSQL is back.
Uses a throwaway PostgreSQL cluster, never the shared one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.counter.conftest import create_topics, delete_topics, isolated_settings
from tests.integration.counter.helpers import CounterProcess, produce, wait_for_totals
from tests.integration.counter.test_exactly_once import stream
from tests.throwaway import ThrowawayPostgres
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


async def test_postgres_outage_commits_nothing_and_recovers_exactly(
    postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    settings = isolated_settings(database_url=postgres.dsn, max_batch=200)
    await create_topics(settings)
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        before, expected_before = stream(1_000)
        await produce(settings, before)
        await wait_for_totals(settings, expected_before)

        postgres.stop()
        during, expected_during = stream(2_000)
        await produce(settings, during)
        lag = await wait_until(lambda: counter.metric("plume_counter_lag_records"), lambda n: n > 0)
        assert lag > 0
        async with httpx.AsyncClient(timeout=3.0) as client:
            readyz = await wait_until(
                lambda: client.get(f"{counter.url}/readyz"), lambda r: r.status_code == 503
            )
        assert readyz.headers["content-type"] == "application/problem+json"
        committed_batches = await counter.metric("plume_counter_batch_records_count")
        # still up, still retrying, nothing committed while the database is away
        await wait_until(lambda: counter.metric("plume_counter_lag_seconds"), lambda s: s > 3)
        assert counter.alive()
        assert await counter.metric("plume_counter_batch_records_count") == committed_batches

        postgres.start()
        expected = {c: expected_before[c] + expected_during[c] for c in expected_before}
        await wait_for_totals(settings, expected)
        assert counter.alive(), "recovered in the same process"
    finally:
        counter.stop()
        await delete_topics(settings)
