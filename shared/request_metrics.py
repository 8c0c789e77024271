"""Request metrics by route and status for every service, and the last word on how a
request ended: a client that went away before its answer is counted as 499 (408 when the
server cut it off for being too slow, see shared.guarded_http), never as a server error;
anything unexpected is logged once, with its traceback, and answered 500 problem+json."""

from __future__ import annotations

import logging
import os
import time
from functools import cache

from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.guarded_http import TIMED_OUT
from shared.http import problem
from shared.logs import request_id_var

log = logging.getLogger(__name__)

# nginx's convention for "the client closed the connection before the answer".
CLIENT_CLOSED = 499
# The intake latency objective is 25 ms at p99; a bucket sits exactly on it.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "plume_http_requests_total", "HTTP requests answered", ["service", "route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "plume_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "route", "method"],
    buckets=LATENCY_BUCKETS,
)


# The labelled children, looked up once per label set: `labels()` validates and takes a
# lock on each call, a few % of a single POST's CPU in intake's profile (py-spy).
@cache
def _requests(service: str, route: str, method: str, status: str) -> Counter:
    return HTTP_REQUESTS.labels(service, route, method, status)


@cache
def _latency(service: str, route: str, method: str) -> Histogram:
    return HTTP_LATENCY.labels(service, route, method)


class RequestMetrics:
    """ASGI middleware: counts and times requests by route template (never by raw path,
    which would carry ids into label values), and sets a request id for the logs. `api`
    names the routes of requests answered before any router saw them (intake's)."""

    def __init__(self, app: ASGIApp, service: str, api: ASGIApp | None = None) -> None:
        self.app = app
        self.service = service
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, answering, gone = 500, False, False
        # 32 random hex digits, as uuid4().hex gave, without building a UUID (6x the cost).
        request_id = _incoming_request_id(scope) or os.urandom(16).hex()
        token = request_id_var.set(request_id)

        async def receive_noting_disconnect() -> Message:
            nonlocal gone
            message = await receive()
            gone = gone or (message["type"] == "http.disconnect" and not answering)
            return message

        async def send_with_status(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status, answering = message["status"], True
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive_noting_disconnect, send_with_status)
        except ClientDisconnect:
            gone = gone or not answering
        except Exception:
            log.exception("request failed", extra={"route": self._route(scope)})
            if not answering:
                await problem(500, "Internal error")(scope, receive, send_with_status)
        finally:
            request_id_var.reset(token)
            if gone:
                status = 408 if scope.get(TIMED_OUT) else CLIENT_CLOSED
            route, method = self._route(scope), scope["method"]
            _requests(self.service, route, method, str(status)).inc()
            _latency(self.service, route, method).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        matched = scope.get("route")  # set by Starlette's router (and intake's fast path)
        if matched is not None and isinstance(getattr(matched, "path", None), str):
            return str(matched.path)
        app = scope.get("app") or self.api
        for route in getattr(getattr(app, "router", None), "routes", []):
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "unmatched"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return None
