"""The action routes, dispatched straight to their handlers. They are registered in the
FastAPI app too (documented in /openapi.json, answered the same way), but FastAPI's stack
of per-request layers costs more CPU than the whole action handling; at campaign peak these
two routes carry nearly all the traffic, so they skip it. (The in-flight cap in front of
them all is shared.admission; an unexpected error is logged and answered 500 by
shared.request_metrics around it.)"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from services.intake import metrics
from services.intake.entrypoints.raw_route import Endpoint
from services.intake.entrypoints.requests import Refusal


class FastPath:
    def __init__(self, api: FastAPI, routes: Mapping[tuple[str, str], Endpoint]) -> None:
        self.api = api
        self.routes = routes
        # The documented route of each path, for the request metrics' route label.
        self.documented = {getattr(route, "path", None): route for route in api.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        if scope["type"] == "http":
            endpoint = self.routes.get((scope["method"], scope["path"]))
        if endpoint is None:
            await self.api(scope, receive, send)
            return
        scope["app"] = self.api  # handlers find their state on request.app
        scope["route"] = self.documented.get(scope["path"])
        response = await self._answer(endpoint, scope, receive)
        await response(scope, receive, send)

    async def _answer(self, endpoint: Endpoint, scope: Scope, receive: Receive) -> Response:
        try:
            return await endpoint(Request(scope, receive))
        except Refusal as refused:
            metrics.rejected(refused.status)
            return refused.response()
