"""Exact totals through replays, duplicates, SIGKILL, position resets and two processes
sharing the partitions (real Kafka, real PostgreSQL, `plume serve counter` processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.counter.settings import CounterSettings
from shared.contracts.actions import ActionEvent, ActionType
from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import (
    CounterProcess,
    produce,
    stored_totals,
    wait_for_totals,
)
from tests.unit.counter.builders import action, signature
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def settings() -> AsyncIterator[CounterSettings]:
    settings = isolated_settings(max_batch=100)  # small batches: a long stream to cut into
    await create_topics(settings)
    yield settings
    await clean_up(settings)


def stream(n: int) -> tuple[list[ActionEvent], dict[str, int]]:
    """n actions over two cases, with counts > 1, and the totals they must give."""
    events = [
        action("case-a" if i % 2 else "case-b", ActionType.LETTER, count=1 + i % 3)
        for i in range(n)
    ]
    expected: dict[str, int] = {}
    for e in events:
        expected[e.case_id] = expected.get(e.case_id, 0) + e.count
    return events, expected


async def test_replays_and_duplicates_count_once(settings: CounterSettings, tmp_path: Path) -> None:
    events, expected = stream(500)
    # the same email in two letter cases reaches the counter with one supporter key
    awa = [
        signature("case-a", "key-of-awa@example.org"),
        signature("case-a", "key-of-awa@example.org"),
    ]
    await produce(settings, [*events, *awa, *events[:200]])
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        await produce(settings, [*events, awa[0]])  # the whole stream sent again
        await wait_for_totals(settings, {**expected, "case-a": expected["case-a"] + 1})
    finally:
        counter.stop()


async def test_sigkill_mid_stream_then_restart_gives_exact_totals(
    settings: CounterSettings, tmp_path: Path
) -> None:
    events, expected = stream(30_000)
    half = len(events) // 2
    await produce(settings, events[:half])
    counter = await CounterProcess(settings, tmp_path).start()
    await wait_until(lambda: stored_totals(settings), lambda t: sum(t.values()) > 0)
    counter.kill()  # while counting; the rest of the stream arrives while it is dead
    await produce(settings, events[half:])
    restarted = await CounterProcess(settings, tmp_path).start()
    try:
        await wait_for_totals(settings, expected)
    finally:
        restarted.stop()


async def test_reset_positions_and_replay_leaves_totals_unchanged(
    settings: CounterSettings, tmp_path: Path
) -> None:
    events, expected = stream(3_000)
    await produce(settings, events)
    counter = await CounterProcess(settings, tmp_path).start()
    await wait_for_totals(settings, expected)
    counter.stop()
    conn = await asyncpg.connect(settings.database_url)
    try:  # positions live in PostgreSQL: forgetting them replays the topic from the start
        await conn.execute(f'DELETE FROM "{settings.db_schema}".consumer_positions')
    finally:
        await conn.close()
    replay = await CounterProcess(settings, tmp_path).start()
    try:
        records = await wait_until(
            lambda: replay.metric("plume_counter_batch_records_sum"), lambda n: n >= 3_000
        )
        assert records == 3_000, "the whole topic was read again"
        assert await replay.metric("plume_counter_actions_counted_total") == 0
        assert await replay.metric("plume_counter_freshness_seconds_count") == 0, "no new data"
        assert await stored_totals(settings) == expected
    finally:
        replay.stop()


async def test_two_counters_share_partitions_and_survive_one_killed(
    settings: CounterSettings, tmp_path: Path
) -> None:
    first, second = CounterProcess(settings, tmp_path), CounterProcess(settings, tmp_path)
    await asyncio.gather(first.start(), second.start())
    try:
        await wait_until(
            lambda: asyncio.gather(
                first.metric("plume_counter_assigned_partitions"),
                second.metric("plume_counter_assigned_partitions"),
            ),
            lambda assigned: min(assigned) > 0 and sum(assigned) == 4,
        )
        events, expected = stream(30_000)
        half = len(events) // 2
        await produce(settings, events[:half])
        await wait_until(
            lambda: asyncio.gather(
                first.metric("plume_counter_batch_records_count"),
                second.metric("plume_counter_batch_records_count"),
            ),
            lambda counts: all(c > 0 for c in counts),
        )
        # Killed while both count; the rest of the stream arrives after it died, so the
        # survivor must take over its partitions from the positions it committed.
        first.kill()
        await produce(settings, events[half:])
        await wait_for_totals(settings, expected)
    finally:
        first.kill()
        second.stop()
