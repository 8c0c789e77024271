"""The fast path: action routes straight to their handler, the rest to FastAPI, and
requests past the in-flight cap refused at once with 503 and Retry-After."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from services.intake.entrypoints.fast_path import FastPath
from services.intake.entrypoints.requests import Problem
from shared.http import problem
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


def scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}


async def call(app: FastPath, method: str, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    await app(scope(method, path), receive, send)
    return sent


def status_of(sent: list[dict[str, Any]]) -> int:
    return int(sent[0]["status"])


async def test_action_routes_go_to_their_handler_and_problems_are_answered() -> None:
    api = FastAPI()

    @api.get("/other")
    async def other() -> dict[str, str]:
        return {"from": "fastapi"}

    async def refuse(_: Request) -> Response:
        raise Problem(problem(422, "Validation failed"))

    app = FastPath(api, {("POST", "/v1/actions"): refuse})
    assert status_of(await call(app, "POST", "/v1/actions")) == 422
    assert status_of(await call(app, "GET", "/other")) == 200
    assert status_of(await call(app, "GET", "/v1/actions")) == 404  # FastAPI's answer


async def test_requests_past_the_cap_are_shed_with_retry_after() -> None:
    release = asyncio.Event()

    async def slow(_: Request) -> Response:
        await release.wait()
        return Response(b"{}", status_code=202)

    app = FastPath(FastAPI(), {("POST", "/v1/actions"): slow}, max_in_flight=2, retry_after_s=3)
    first = [asyncio.create_task(call(app, "POST", "/v1/actions")) for _ in range(2)]

    async def in_flight() -> int:
        return app.in_flight

    await wait_until(in_flight, lambda n: n == 2, within=5, every=0.001)
    shed = await call(app, "POST", "/v1/actions")
    assert status_of(shed) == 503
    assert (b"retry-after", b"3") in shed[0]["headers"]
    release.set()
    assert [status_of(await task) for task in first] == [202, 202]
    assert app.in_flight == 0
    assert status_of(await call(app, "POST", "/v1/actions")) == 202
