"""shared.loops.any_set: the wait the background loops pause with, and the consumer's
feeder holds with during a rebalance."""

from __future__ import annotations

import asyncio

import pytest

from shared.loops import any_set


@pytest.mark.parametrize("which", [0, 1])
async def test_any_set_returns_once_one_of_the_events_is_set(which: int) -> None:
    events = [asyncio.Event(), asyncio.Event()]
    waiting = asyncio.create_task(any_set(events))
    await asyncio.sleep(0)
    assert not waiting.done()
    events[which].set()
    await asyncio.wait_for(waiting, 1)


async def test_any_set_returns_at_once_when_one_is_set_already() -> None:
    events = [asyncio.Event(), asyncio.Event()]
    events[1].set()
    await asyncio.wait_for(any_set(events), 1)


async def test_any_set_gives_up_after_its_time() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await any_set([asyncio.Event()], within_s=0.05)
    assert loop.time() - started >= 0.04
