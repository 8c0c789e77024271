"""The freshness benchmark waits for the last acknowledged tick to show, however long a
loaded machine takes (bounded), instead of a fixed pause that lost the last ticks."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.counter_freshness import Samples, latencies, until_seen

pytestmark = pytest.mark.unit


async def test_it_waits_until_the_last_tick_is_seen() -> None:
    acks: Samples = [(0.0, 20), (0.01, 40)]
    seen: Samples = [(0.0, 1)]  # the warm-up action: offset 1

    async def counter_catches_up() -> None:
        # Runs only once until_seen has looked and found the last tick missing (the task
        # starts when the waiter first awaits), later than the last acknowledgement.
        seen.append((time.monotonic(), 21))
        seen.append((time.monotonic(), 41))

    catching_up = asyncio.create_task(counter_catches_up())
    await until_seen(seen, acks, offset=1, within=5.0)
    assert catching_up.done()  # it returned only after the counter caught up
    await catching_up
    assert seen[-1][1] == 41 and len(latencies(acks, seen, offset=1)) == 2


async def test_it_gives_up_after_its_bound_and_latencies_says_so() -> None:
    acks: Samples = [(0.0, 20)]
    seen: Samples = [(0.0, 1)]
    await until_seen(seen, acks, offset=1, within=0.05)
    with pytest.raises(RuntimeError, match="never became visible"):
        latencies(acks, seen, offset=1)
