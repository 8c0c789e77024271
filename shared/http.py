"""What every service's HTTP API has in common: health, readiness, metrics, and problem
details (RFC 9457) for every error, the framework's own included."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

ReadinessCheck = Callable[[], Awaitable[bool]]
# Why the service cannot do its job although its connections work (a stuck consumer), or None.
ReadinessProblem = Callable[[], str | None]


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    answer_headers = dict(headers or {})
    if "retry_after" in extra:
        answer_headers["Retry-After"] = str(body.pop("retry_after"))
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=answer_headers,
    )


def answer_problems(app: FastAPI) -> None:
    """The framework's own errors as problem+json too: unknown routes (404), methods (405,
    with `Allow`), invalid parameters (422, one entry per field), anything unexpected (500;
    shared.request_metrics logs it)."""
    app.add_exception_handler(HTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _invalid_problem)
    app.add_exception_handler(Exception, _internal_problem)


async def _http_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if exc.detail != title else None
    return problem(exc.status_code, title, detail, headers=exc.headers)


async def _invalid_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"][1:]),
            "code": error["type"],
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    return problem(422, "Invalid request", errors=errors)


async def _internal_problem(_: Request, exc: Exception) -> Response:
    return problem(500, "Internal error")


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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
