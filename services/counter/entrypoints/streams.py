"""GET /v1/totals/stream: Server-Sent Events, one per change of a case's totals. Each open
stream holds a connection, a task and its buffers (about 30 KB) and wakes at every change,
so streams are capped in total and per client address (settings); past a cap the answer
is 503 with Retry-After, and a stream gives its place back however it ends."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.views import Views
from shared.http import client_address, problem

STREAMS = ("/v1/totals/stream",)
KEEPALIVE_S = 15.0


@dataclass
class StreamSlots:
    total: int
    per_client: int
    retry_after_s: int
    open: Counter[str] = field(default_factory=Counter)

    def take(self, client: str) -> bool:
        if self.open.total() >= self.total or self.open[client] >= self.per_client:
            return False
        self.open[client] += 1
        return True

    def give_back(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]


class SlotStream(StreamingResponse):
    """A stream that gives its slot back when it ends, whichever way it ends."""

    def __init__(self, events: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def add_stream_route(
    router: APIRouter, snapshot: Snapshot, views: Views, slots: StreamSlots, interval: float
) -> None:
    @router.get("/v1/totals/stream")
    async def stream(request: Request) -> Response:
        return slotted(request, slots, _events(snapshot, views, interval))


def slotted(request: Request, slots: StreamSlots, events: AsyncIterator[bytes]) -> Response:
    """`events` as a stream holding one of the slots, or 503 when none is left."""
    client = client_address(request)
    if not slots.take(client):
        return problem(
            503,
            "Too many streams",
            "open streams are capped in total and per client address",
            retry_after=slots.retry_after_s,
        )
    return SlotStream(events, lambda: slots.give_back(client))


async def _events(snapshot: Snapshot, views: Views, interval: float) -> AsyncIterator[bytes]:
    """Every case's totals at once, then one event per case whose totals changed; a case
    changing faster than `interval` is coalesced to its latest totals."""
    sent: dict[str, int] = {}
    while True:
        generation = snapshot.generation
        events = []
        for case_id, totals in list(snapshot.cases.items()):
            if sent.get(case_id) != totals.revision:
                sent[case_id], event = views.event(case_id)
                events.append(event)
        if events:
            yield b"".join(events)  # one write for every case that changed
        await asyncio.sleep(interval)
        if snapshot.generation == generation:
            try:
                async with asyncio.timeout(KEEPALIVE_S):  # no task per wait, unlike wait_for
                    await snapshot.wait_for_change(generation)
            except TimeoutError:
                yield b": keepalive\n\n"
