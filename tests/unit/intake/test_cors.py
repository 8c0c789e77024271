"""Intake's CORS passes a request without an Origin straight through (the hot path's
shortcut): its answer must carry exactly the headers Starlette's own CORS would give it."""

from __future__ import annotations

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.intake.entrypoints.cors import ProblemCORSMiddleware

pytestmark = pytest.mark.unit


def answering(headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raw = [*headers, (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 202, "headers": raw})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def answer_headers(cors: type[CORSMiddleware], app: ASGIApp) -> list[tuple[str, str]]:
    wrapped = cors(app, allow_origins=["https://section.example.org"], allow_methods=["POST"])
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        answer = await client.post("/v1/actions", content=b"{}")
    return answer.headers.multi_items()


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-type", b"application/json")],
        [(b"vary", b"Accept-Language")],
        [(b"vary", b"Accept-Language"), (b"x-other", b"1"), (b"vary", b"Accept-Encoding")],
    ],
    ids=["none", "no vary", "one vary", "two vary"],
)
async def test_a_request_without_origin_gets_the_headers_starlette_gives(
    headers: list[tuple[bytes, bytes]],
) -> None:
    ours = await answer_headers(ProblemCORSMiddleware, answering(headers))
    starlettes = await answer_headers(CORSMiddleware, answering(headers))
    assert ours == starlettes
    assert ("vary", "Origin") in ours or any(v.endswith(", Origin") for _, v in ours)
