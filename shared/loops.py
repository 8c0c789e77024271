"""Background loops: a step run again and again until the service stops, surviving its
failures (logged by type, retried with a growing pause) so one bad moment of Kafka or
PostgreSQL never silently ends a loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[int]]
MAX_PAUSE_S = 30.0


async def repeat(
    name: str,
    step: Step,
    every: float,
    stop: asyncio.Event,
    wake: asyncio.Event | None = None,
) -> None:
    """Run `step` until `stop`. It returns how much it did: when 0, pause `every` seconds
    (or until `wake` is set). After a failure the pause doubles, up to 30 s."""
    pause = every
    while not stop.is_set():
        try:
            busy = await step()
            pause = every
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("background step failed", extra={"step": name, "error": type(exc).__name__})
            busy, pause = 0, min(pause * 2, MAX_PAUSE_S)
        if not busy:
            await _pause(pause, stop, wake)


async def _pause(seconds: float, stop: asyncio.Event, wake: asyncio.Event | None) -> None:
    await any_set([e for e in (stop, wake) if e is not None], seconds)
    if wake is not None:
        wake.clear()


async def any_set(events: Sequence[asyncio.Event], within_s: float | None = None) -> None:
    """Return once one of `events` is set, or after `within_s` seconds (None: no limit)."""
    if any(event.is_set() for event in events):
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
