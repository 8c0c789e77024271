"""Keeps the shared CatalogView following `plume.cases.v1` for the life of the process,
starting over after Kafka outages (the view re-reads the compacted topic from its start)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from shared.catalog import CatalogView

log = logging.getLogger(__name__)


async def follow_forever(view: CatalogView, bootstrap: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await view.follow(bootstrap, stop)
        except Exception as exc:
            log.warning("catalogue follower restarts", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
