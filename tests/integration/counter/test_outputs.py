"""What the counter publishes besides its API: the compacted totals topic, metrics, and
the corrections of `plume counter recount` / `plume counter invalidate`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.counter.settings import CounterSettings
from shared.contracts.totals import CaseTotals
from shared.kafka import decode
from tests.integration.counter.conftest import (
    clean_up,
    counter_env,
    create_topics,
    isolated_settings,
)
from tests.integration.counter.helpers import (
    CounterProcess,
    produce,
    stored_totals,
    wait_for_totals,
)
from tests.integration.counter.test_poison_and_milestones import read_topic
from tests.unit.counter.builders import ACCEPTED, action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def settings() -> AsyncIterator[CounterSettings]:
    settings = isolated_settings()
    await create_topics(settings, partitions=2)
    yield settings
    await clean_up(settings)


async def latest_published(settings: CounterSettings) -> dict[str, CaseTotals]:
    latest: dict[str, CaseTotals] = {}
    for _, value in await read_topic(settings, settings.totals_topic):
        message = decode(CaseTotals, value)
        if message.revision >= latest.get(message.case_id, message).revision:
            latest[message.case_id] = message
    return latest


async def test_latest_totals_are_published_and_measured(
    settings: CounterSettings, tmp_path: Path
) -> None:
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        await produce(settings, [action("case-p", count=4), action("case-q", country="BR")])
        await produce(settings, [action("case-p", count=6), action("case-p", heartbeat=True)])
        await wait_for_totals(settings, {"case-p": 10, "case-q": 1})
        published = await wait_until(
            lambda: latest_published(settings),
            lambda m: m.get("case-p") is not None and m["case-p"].total == 10,
        )
        assert published["case-q"].by_country == {"BR": 1}
        assert await counter.metric('plume_counter_case_total{case_id="case-p"}') == 10
        assert await counter.metric("plume_counter_freshness_seconds_count") >= 3
        assert await counter.metric("plume_counter_actions_counted_total") == 3
        by_country = 'plume_counter_case_total_by_country{case_id="case-q",country="BR"}'
        assert await counter.metric(by_country) == 1
        by_source = 'plume_counter_case_total_by_source{case_id="case-p",source="web"}'
        assert await counter.metric(by_source) == 10  # keyless actions count under "web"
        heartbeat = await counter.metric("plume_counter_heartbeat_last_counted_timestamp_seconds")
        assert abs(heartbeat - time.time()) < 60
    finally:
        counter.stop()


def plume(settings: CounterSettings, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "plume"), "counter", *args]
    return subprocess.run(
        command, env=counter_env(settings, 0), capture_output=True, text=True, timeout=120
    )


async def test_recount_reports_and_repairs_drift_and_invalidate_corrects(
    settings: CounterSettings, tmp_path: Path
) -> None:
    await produce(
        settings,
        [action("case-x", count=5, source="partner-bad"), action("case-x", count=2)],
    )
    counter = await CounterProcess(settings, tmp_path).start()
    await wait_for_totals(settings, {"case-x": 7})
    counter.stop()
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'UPDATE "{settings.db_schema}".case_totals SET total = 99')
    finally:
        await conn.close()

    dry = plume(settings, "recount", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "case-x: total drift -92" in dry.stdout
    assert await stored_totals(settings) == {"case-x": 99}
    repaired = plume(settings, "recount", "case-x")
    assert repaired.returncode == 0, repaired.stderr
    assert await stored_totals(settings) == {"case-x": 7}
    assert plume(settings, "recount").stdout.startswith("no drift")

    window = ["--from", ACCEPTED.isoformat(), "--to", "2099-01-01T00:00:00+00:00"]
    gone = plume(settings, "invalidate", "--source", "partner-bad", *window)
    assert gone.returncode == 0, gone.stderr
    assert "invalidated 1 actions" in gone.stdout
    assert await stored_totals(settings) == {"case-x": 2}
    assert plume(settings, "invalidate").returncode == 2, "no criterion: refused"
