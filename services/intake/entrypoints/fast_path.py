"""The action routes (POST /v1/actions and /v1/actions/batch), answered in one layer in
front of the others. They are registered in the FastAPI app too (documented in
/openapi.json, answered the same way), but at campaign peak they carry nearly all the
traffic, and the layers every other route goes through (the in-flight cap, CORS, FastAPI's
routing, exception handling and response objects) cost more CPU than the action handling
itself. So this layer does what those would do for them, reusing their parts: it takes a
slot of the same in-flight cap (shared.admission, whose count it shares), calls the
handler, answers its refusal as problem+json, and sends the answer with the headers the
same CORS layer adds. Request metrics and an unexpected error's 500 are the job of
shared.request_metrics, around everything."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from services.intake import metrics
from services.intake.entrypoints.cors import ProblemCORSMiddleware
from services.intake.entrypoints.raw_route import Endpoint
from services.intake.entrypoints.requests import Refusal
from shared.admission import Admission, is_keyed


class FastPath:
    """`routes` answered here; every other request goes to `admission`, the in-flight cap
    in front of `cors` in front of `api`. (Without them: no cap, no CORS headers, and the
    other requests go to `api`.)"""

    def __init__(
        self,
        api: FastAPI,
        routes: Mapping[tuple[str, str], Endpoint],
        admission: Admission | None = None,
        cors: ProblemCORSMiddleware | None = None,
    ) -> None:
        self.api = api
        self.routes = routes
        self.admission = admission or Admission(api, limit=0, keyed_share=0)
        self.cors = cors
        # The documented route of each path, for the request metrics' route label.
        self.documented = {getattr(route, "path", None): route for route in api.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        if scope["type"] == "http":
            endpoint = self.routes.get((scope["method"], scope["path"]))
        if endpoint is None:
            await self.admission(scope, receive, send)
            return
        scope["app"] = self.api  # handlers find their state on request.app
        scope["route"] = self.documented.get(scope["path"])
        keyed = is_keyed(scope)
        if not self.admission.admit(keyed):
            await self.admission.shed(scope, receive, send)
            return
        try:
            response = await _answer(endpoint, scope, receive)
            await self._send(response, scope, send)
        finally:
            self.admission.release(keyed)

    async def _send(self, response: Response, scope: Scope, send: Send) -> None:
        start: Message = {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
        if self.cors is None:
            await send(start)
        else:
            await self.cors.start_answer(scope, start, send)
        await send({"type": "http.response.body", "body": response.body})


async def _answer(endpoint: Endpoint, scope: Scope, receive: Receive) -> Response:
    try:
        return await endpoint(Request(scope, receive))
    except Refusal as refused:
        metrics.rejected(refused.status)
        return refused.response()
