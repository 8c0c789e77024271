"""Intake's memory of data keys (services/intake/adapters/data_keys.py) following
PostgreSQL's announcements of destroyed keys, for the tests that need it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from services.intake.adapters.data_keys import CachedDataKeys
from tests.waiting import wait_until


@contextlib.asynccontextmanager
async def following(cache: CachedDataKeys) -> AsyncIterator[None]:
    """The cache LISTENing (so holding keys) until the block ends."""
    task = asyncio.create_task(cache.follow())
    try:
        await wait_until(lambda: asyncio.sleep(0, cache.following()), within=10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
