"""What every service's HTTP API has in common: health, readiness, metrics, problem
details (RFC 9457), and request metrics by route and status."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import request_id_var

ReadinessCheck = Callable[[], Awaitable[bool]]
# Why the service cannot do its job although its connections work (a stuck consumer), or None.
ReadinessProblem = Callable[[], str | None]

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


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(body.pop("retry_after"))
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def add_operational_routes(
    app: FastAPI, ready: ReadinessCheck, problem_of: ReadinessProblem | None = None
) -> None:
    """`/healthz` (the process lives), `/readyz` (Kafka and PostgreSQL answer, and
    `problem_of` names no problem: its reason is the 503's detail), `/metrics`."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        reason = problem_of() if problem_of else None
        if reason:
            return problem(503, "Not ready", reason)
        if await ready():
            return Response(b'{"status":"ready"}', media_type="application/json")
        return problem(503, "Not ready", "Kafka or PostgreSQL is not reachable")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(metrics_exposition(), media_type=CONTENT_TYPE_LATEST)


def metrics_exposition() -> bytes:
    """This process's metrics; under several workers (shared.workers sets
    PROMETHEUS_MULTIPROC_DIR for them), the sums over all workers, whichever answers."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class RequestMetrics:
    """ASGI middleware: counts and times requests by route template (never by raw path,
    which would carry ids into label values), and sets a request id for the logs."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            request_id_var.reset(token)
            route, method = _route_template(scope), scope["method"]
            HTTP_REQUESTS.labels(self.service, route, method, str(status)).inc()
            HTTP_LATENCY.labels(self.service, route, method).observe(time.perf_counter() - started)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return None


def _route_template(scope: Scope) -> str:
    matched = scope.get("route")  # set by Starlette's router (and intake's fast path)
    if matched is not None and isinstance(getattr(matched, "path", None), str):
        return str(matched.path)
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", [])
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
