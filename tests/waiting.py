"""Wait for a condition with a deadline, instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool] = bool,
    within: float = 30.0,
    every: float = 0.05,
) -> T:
    """Call `probe` until `accept(result)`; return that result, or raise TimeoutError
    with the last result seen."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within}s; last: {result!r}")
        await asyncio.sleep(every)


def wait_until_sync(
    probe: Callable[[], T],
    accept: Callable[[T], bool] = bool,
    within: float = 30.0,
    every: float = 0.05,
) -> T:
    """`wait_until` for code outside an event loop (session fixtures, subprocess helpers)."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within}s; last: {result!r}")
        time.sleep(every)
