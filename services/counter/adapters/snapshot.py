"""The read model: every case's totals in memory, refreshed from PostgreSQL when any
counter process commits (a per-case revision says what changed), so reads never query."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from services.counter.adapters.pg_totals import PostgresTotals
from services.counter.domain.model import HourPoint
from shared.contracts.totals import CaseTotals
from shared.loops import repeat

log = logging.getLogger(__name__)
ChangeListener = Callable[[list[CaseTotals]], Awaitable[None]]


class Snapshot:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema
        self.cases: dict[str, CaseTotals] = {}
        self.generation = 0
        # Set (and replaced) at each change. Every open stream waits on it: an Event wakes
        # them all at once, where a Condition would pass its lock from one to the next.
        self._changed = asyncio.Event()
        self.poke = asyncio.Event()
        self.listeners: list[ChangeListener] = []
        self._history: dict[str, tuple[int, list[HourPoint]]] = {}
        self.refreshed_at: float | None = None  # monotonic time of the last refresh

    def problem(self, stale_after_s: float) -> str | None:
        """Why the totals served may be stale (a refresh failing or not running), or None."""
        if self.refreshed_at is None:
            return "the read snapshot is not loaded yet"
        age = time.monotonic() - self.refreshed_at
        if age <= stale_after_s:
            return None
        return f"the read snapshot was last refreshed {age:.0f} s ago; totals may be stale"

    async def refresh(self) -> list[CaseTotals]:
        async with self.pool.acquire() as conn:
            totals = PostgresTotals(conn, self.schema)
            revisions = await totals.revisions()
            stale = [c for c, rev in revisions.items() if self._revision(c) != rev]
            fresh = await totals.read(stale) if stale else {}
        self.refreshed_at = time.monotonic()
        if not fresh:
            return []
        self.cases.update(fresh)
        self.generation += 1
        self._changed.set()
        self._changed = asyncio.Event()
        changed = list(fresh.values())
        for listener in self.listeners:
            await listener(changed)
        return changed

    def _revision(self, case_id: str) -> int:
        known = self.cases.get(case_id)
        return known.revision if known else -1

    async def follow(self, interval: float, stop: asyncio.Event) -> None:
        """Refresh when poked (this process committed) or every `interval` (another did)."""

        async def refresh() -> int:
            await self.refresh()
            return 0  # always pause: the next change announces itself

        await repeat("snapshot", refresh, interval, stop, wake=self.poke)

    async def wait_for_change(self, generation: int) -> None:
        while self.generation == generation:
            await self._changed.wait()

    async def history(self, case_id: str) -> list[HourPoint]:
        """Per-hour counts, read again only when the case's revision changed."""
        revision = self._revision(case_id)
        cached = self._history.get(case_id)
        if cached and cached[0] == revision:
            return cached[1]
        async with self.pool.acquire() as conn:
            points = await PostgresTotals(conn, self.schema).history(case_id)
        self._history[case_id] = (revision, points)
        return points
