"""The counter's read API: totals per case, all totals, history, and a live stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.case_stream import add_case_stream_route
from services.counter.entrypoints.streams import StreamSlots, add_stream_route
from services.counter.entrypoints.views import Views
from shared.http import problem

CACHE = "public, max-age=1"


def read_routes(
    snapshot: Snapshot,
    known_cases: Callable[[], Iterable[str]],
    stream_interval: float,
    slots: StreamSlots,
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
        points = [
            {"hour": point.hour, "count": point.amount, "by_source": point.by_source}
            for point in await snapshot.history(case_id)
        ]
        body = orjson.dumps({"case_id": case_id, "hours": points})
        return Response(body, media_type="application/json", headers={"Cache-Control": CACHE})

    add_stream_route(router, snapshot, views, slots, stream_interval)
    add_case_stream_route(router, snapshot, views, slots, stream_interval, is_known)
    return router


def _cached(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
