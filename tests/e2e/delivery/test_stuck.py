"""`plume serve delivery` with its store failing transiently (a missing table, a statement
hung on a lock): the records wait, /readyz and plume_delivery_stalled_seconds say so after
`stall_after_s`, it recovers by itself, and SIGTERM stops it within 10 s all the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.delivery.process import ServiceProcess
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, publish, signature, stored
from tests.stuck import (
    Stuck,
    is_ready,
    not_ready_because,
    scrape,
    stopped_within,
    table_locked,
    table_renamed,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
TARGET = {"id": "t", "name": "T", "country": "TN", "language": "fr"}


async def test_a_stuck_consumer_is_reported_then_recovers(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = await make_settings(stall_after_s=1.0)
    case_id = "case-" + settings.db_schema[-10:]
    service = ServiceProcess(settings, tmp_path / "delivery.log")
    await service.start()

    async def stalled() -> float:
        return await scrape(service.url, "plume_delivery_stalled_seconds")

    try:
        await publish(settings, [case(case_id, [TARGET])], [signature(case_id, "k1", "A")])
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)
        async with table_renamed(settings.database_url, settings.db_schema, "signatures"):
            await publish(settings, [], [signature(case_id, "k2", "B")])
            detail = await not_ready_because(service.url)
            assert "UndefinedTableError" in detail
            await wait_until(stalled, lambda seconds: seconds >= 1.0)  # gauge set each second
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 2)
        await wait_until(lambda: is_ready(service.url))
    finally:
        service.stop()


@pytest.mark.parametrize("stuck", [table_renamed, table_locked], ids=["retrying", "hung"])
async def test_sigterm_stops_a_stuck_delivery_within_10_s(
    make_settings: MakeSettings, tmp_path: Path, stuck: Stuck
) -> None:
    settings = await make_settings(stall_after_s=1.0)
    case_id = "case-" + settings.db_schema[-10:]
    service = ServiceProcess(settings, tmp_path / "delivery.log")
    await service.start()
    async with stuck(settings.database_url, settings.db_schema, "signatures") as seen_stuck:
        await publish(settings, [case(case_id, [TARGET])], [signature(case_id, "k1", "A")])
        await wait_until(lambda: seen_stuck(service.log))
        assert service.proc is not None
        seconds = await stopped_within(service.proc, 10.0)
        print(f"delivery stopped {seconds:.2f} s after SIGTERM")
    await service.start()  # nothing was lost
    try:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)
    finally:
        service.stop()
