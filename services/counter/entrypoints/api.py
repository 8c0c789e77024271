"""The counter's read API: totals per case, all totals, history, and a live stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.views import Views, totals_body
from shared.http import problem

CACHE = "public, max-age=1"
KEEPALIVE_S = 15.0


def read_routes(
    snapshot: Snapshot, known_cases: Callable[[], Iterable[str]], stream_interval: float
) -> APIRouter:
    router = APIRouter()
    views = Views(snapshot)

    def is_known(case_id: str) -> bool:
        return case_id in snapshot.cases or case_id in set(known_cases())

    @router.get("/v1/cases/{case_id}/totals")
    async def case_totals(case_id: str, request: Request) -> Response:
        if not is_known(case_id):
            return problem(404, "Unknown case", f"no case {case_id!r}")
        return _cached(request, *views.case(case_id))

    @router.get("/v1/totals")
    async def all_totals(request: Request) -> Response:
        return _cached(request, *views.everything(known_cases()))

    @router.get("/v1/cases/{case_id}/history")
    async def history(case_id: str) -> Response:
        """Counts per UTC hour (when intake accepted the actions), oldest first."""
        if not is_known(case_id):
            return problem(404, "Unknown case", f"no case {case_id!r}")
        points = [{"hour": h, "count": n} for h, n in await snapshot.history(case_id)]
        body = orjson.dumps({"case_id": case_id, "hours": points})
        return Response(body, media_type="application/json", headers={"Cache-Control": CACHE})

    @router.get("/v1/totals/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(
            _events(snapshot, stream_interval),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _cached(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _events(snapshot: Snapshot, interval: float) -> AsyncIterator[bytes]:
    """Every case's totals at once, then one event per case whose totals changed; a case
    changing faster than `interval` is coalesced to its latest totals."""
    sent: dict[str, int] = {}
    while True:
        generation = snapshot.generation
        for case_id, totals in list(snapshot.cases.items()):
            if sent.get(case_id) != totals.revision:
                sent[case_id] = totals.revision
                data = orjson.dumps(totals_body(totals)).decode()
                yield f"event: totals\nid: {case_id}.{totals.revision}\ndata: {data}\n\n".encode()
        await asyncio.sleep(interval)
        if snapshot.generation == generation:
            try:
                await asyncio.wait_for(snapshot.wait_for_change(generation), KEEPALIVE_S)
            except TimeoutError:
                yield b": keepalive\n\n"
