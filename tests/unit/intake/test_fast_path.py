"""The fast path: action routes straight to their handler, the rest to FastAPI (the
in-flight cap in front of it is tests/unit/shared/test_admission.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from services.intake.entrypoints.fast_path import FastPath
from services.intake.entrypoints.requests import Refusal

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
        raise Refusal(422, "Validation failed")

    app = FastPath(api, {("POST", "/v1/actions"): refuse})
    assert status_of(await call(app, "POST", "/v1/actions")) == 422
    assert status_of(await call(app, "GET", "/other")) == 200
    assert status_of(await call(app, "GET", "/v1/actions")) == 404  # FastAPI's answer
