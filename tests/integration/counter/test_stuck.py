"""A counter whose store fails transiently (a missing table, a statement that hangs on a
lock) keeps its records, says so on /readyz and in plume_counter_stalled_seconds after
`stall_after_s`, recovers by itself, and stops on SIGTERM within 10 s all the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.counter.conftest import MakeSettings
from tests.integration.counter.helpers import CounterProcess, produce, wait_for_totals
from tests.stuck import (
    Stuck,
    is_ready,
    not_ready_because,
    stopped_within,
    table_locked,
    table_renamed,
)
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_stuck_consumer_is_reported_then_recovers(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = await make_settings(partitions=2, stall_after_s=1.0)
    counter = await CounterProcess(settings, tmp_path).start()

    async def stalled() -> float:
        return await counter.metric("plume_counter_stalled_seconds")

    try:
        await produce(settings, [action(count=1)])
        await wait_for_totals(settings, {"case-a": 1})
        async with table_renamed(settings.database_url, settings.db_schema, "ledger"):
            await produce(settings, [action(count=2)])
            detail = await not_ready_because(counter.url)
            assert "UndefinedTableError" in detail
            await wait_until(stalled, lambda seconds: seconds >= 1.0)  # gauge set each 0.5 s
        await wait_for_totals(settings, {"case-a": 3})
        await wait_until(lambda: is_ready(counter.url))
        await wait_until(stalled, lambda seconds: seconds < 1.0)
    finally:
        counter.stop()


@pytest.mark.parametrize("stuck", [table_renamed, table_locked], ids=["retrying", "hung"])
async def test_sigterm_stops_a_stuck_counter_within_10_s(
    make_settings: MakeSettings, tmp_path: Path, stuck: Stuck
) -> None:
    settings = await make_settings(partitions=2, stall_after_s=1.0)
    counter = await CounterProcess(settings, tmp_path).start()
    async with stuck(settings.database_url, settings.db_schema, "ledger") as seen_stuck:
        await produce(settings, [action(count=5)])
        await wait_until(lambda: seen_stuck(counter.log_file))
        assert counter.process is not None
        seconds = await stopped_within(counter.process, 10.0)
        print(f"counter stopped {seconds:.2f} s after SIGTERM")
    again = await CounterProcess(settings, tmp_path).start()  # nothing was lost
    try:
        await wait_for_totals(settings, {"case-a": 5})
    finally:
        again.stop()
