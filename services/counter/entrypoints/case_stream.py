"""GET /v1/cases/{case_id}/totals/stream: Server-Sent Events for one case (contract v2).
The first event is the case's current totals, zero included, so a page shows a figure at
once; then one event per change of that case, coalesced to `interval`. Streams share the
caps of /v1/totals/stream (StreamSlots)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.streams import KEEPALIVE_S, StreamSlots, slotted
from services.counter.entrypoints.views import Views
from shared.http import problem

CASE_STREAM_ENDING = "/totals/stream"  # exempt from the in-flight cap, like /v1/totals/stream


def add_case_stream_route(
    router: APIRouter,
    snapshot: Snapshot,
    views: Views,
    slots: StreamSlots,
    interval: float,
    is_known: Callable[[str], bool],
) -> None:
    @router.get("/v1/cases/{case_id}/totals/stream")
    async def case_stream(case_id: str, request: Request) -> Response:
        if not is_known(case_id):
            return problem(404, "Unknown case", f"no case {case_id!r}")
        return slotted(request, slots, case_events(snapshot, views, case_id, interval))


async def case_events(
    snapshot: Snapshot, views: Views, case_id: str, interval: float
) -> AsyncIterator[bytes]:
    sent: int | None = None
    while True:
        generation = snapshot.generation
        revision, event = views.event(case_id)
        if revision != sent:
            sent = revision
            yield event
        await asyncio.sleep(interval)
        while snapshot.generation == generation:
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    await snapshot.wait_for_change(generation)
            except TimeoutError:
                yield b": keepalive\n\n"
