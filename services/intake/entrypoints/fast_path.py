"""The action routes, dispatched straight to their handlers. They are registered in the
FastAPI app too (documented in /openapi.json, answered the same way), but FastAPI's stack
of per-request layers costs more CPU than the whole action handling; at campaign peak these
two routes carry nearly all the traffic, so they skip it.

Past `max_in_flight` concurrent action requests, more are refused at once with 503 and
Retry-After: beyond a peak the service can absorb, shedding keeps every answer quick
(clients retry, action ids make retries count once) instead of queueing without bound."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from services.intake import metrics
from services.intake.entrypoints.raw_route import Endpoint
from services.intake.entrypoints.requests import Problem
from shared.http import problem

log = logging.getLogger(__name__)


class FastPath:
    def __init__(
        self,
        api: FastAPI,
        routes: Mapping[tuple[str, str], Endpoint],
        max_in_flight: int = 0,
        retry_after_s: int = 1,
    ) -> None:
        self.api = api
        self.routes = routes
        self.max_in_flight = max_in_flight  # 0 = no limit
        self.retry_after_s = retry_after_s
        self.in_flight = 0
        # The documented route of each path, for the request metrics' route label.
        self.documented = {getattr(r, "path", None): r for r in api.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        if scope["type"] == "http":
            endpoint = self.routes.get((scope["method"], scope["path"]))
        if endpoint is None:
            await self.api(scope, receive, send)
            return
        scope["app"] = self.api  # handlers find their state on request.app
        scope["route"] = self.documented.get(scope["path"])
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            metrics.REJECTED.labels("overloaded").inc()
            overloaded = problem(
                503, "Overloaded", "nothing was accepted", retry_after=self.retry_after_s
            )
            await overloaded(scope, receive, send)
            return
        self.in_flight += 1
        try:
            response = await self._answer(endpoint, scope, receive)
        finally:
            self.in_flight -= 1
        await response(scope, receive, send)

    async def _answer(self, endpoint: Endpoint, scope: Scope, receive: Receive) -> Response:
        try:
            return await endpoint(Request(scope, receive))
        except Problem as refused:
            metrics.rejected(refused.response.status_code)
            return refused.response
        except Exception:
            log.exception("action route failed")
            return problem(500, "Internal error")
