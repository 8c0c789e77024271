"""The fast path: action routes straight to their handler, the rest to FastAPI (the
in-flight cap in front of it is tests/unit/shared/test_admission.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message

from services.intake.entrypoints.cors import ProblemCORSMiddleware
from services.intake.entrypoints.fast_path import FastPath
from services.intake.entrypoints.raw_route import Endpoint, RawRoute
from services.intake.entrypoints.requests import Refusal
from shared.admission import Admission
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
        raise Refusal(422, "Validation failed")

    app = FastPath(api, {("POST", "/v1/actions"): refuse})
    assert status_of(await call(app, "POST", "/v1/actions")) == 422
    assert status_of(await call(app, "GET", "/other")) == 200
    assert status_of(await call(app, "GET", "/v1/actions")) == 404  # FastAPI's answer


# The fast path in front of the in-flight cap and CORS, as intake serves it (app.served_app):
# each answer must be the one the layered stack (cap -> CORS -> FastAPI route) gives.
SECTION = "https://section.example.org"


def intake_like(endpoint: Endpoint, limit: int = 4) -> tuple[Admission, FastPath]:
    """The layered stack serving `endpoint` at POST /v1/actions, and the fast path in front
    of that same stack answering it itself."""
    api = FastAPI()

    @api.get("/other")
    async def other() -> dict[str, str]:
        return {"from": "fastapi"}

    async def refusal_response(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return exc.response()

    api.add_exception_handler(Refusal, refusal_response)
    api.router.add_api_route(
        "/v1/actions", endpoint, methods=["POST"], route_class_override=RawRoute
    )
    cors = ProblemCORSMiddleware(
        api,
        allow_origins=[SECTION],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-API-Key"],
        expose_headers=["Retry-After", "X-Request-Id"],
    )
    admission = Admission(cors, limit=limit, keyed_share=0.25, retry_after_s=2)
    return admission, FastPath(api, {("POST", "/v1/actions"): endpoint}, admission, cors)


async def exchange(
    app: ASGIApp, method: str, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        return await client.request(method, path, content=b"{}", headers=headers)


def answer_of(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, response.headers.multi_items(), response.content


async def accept(_: Request) -> Response:
    return Response(b'{"status":"accepted"}', status_code=202, media_type="application/json")


async def rate_limited(_: Request) -> Response:
    raise Refusal(429, "Too many actions", "limit 30/minute", retry_after=7)


@pytest.mark.parametrize("endpoint", [accept, rate_limited], ids=["accepted", "refused"])
@pytest.mark.parametrize(
    "origin", [None, SECTION, "https://elsewhere.example.org"], ids=["none", "allowed", "other"]
)
async def test_an_action_is_answered_as_the_layered_stack_answers_it(
    endpoint: Endpoint, origin: str | None
) -> None:
    admission, fast = intake_like(endpoint)
    headers = {"origin": origin} if origin else {}
    ours = await exchange(fast, "POST", "/v1/actions", headers)
    layered = await exchange(admission, "POST", "/v1/actions", headers)
    assert answer_of(ours) == answer_of(layered)
    assert ours.status_code in (202, 429)
    assert ("access-control-allow-origin" in ours.headers) == (origin == SECTION)
    assert "Origin" in ours.headers["vary"]
    assert admission.in_flight == 0


async def test_a_refusal_is_problem_json_and_counted() -> None:
    _, fast = intake_like(rate_limited)
    before = REGISTRY.get_sample_value(
        "plume_intake_actions_rejected_total", {"reason": "rate_limited"}
    )
    answer = await exchange(fast, "POST", "/v1/actions")
    assert answer.status_code == 429
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "7"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Too many actions",
        "status": 429,
        "detail": "limit 30/minute",
    }
    after = REGISTRY.get_sample_value(
        "plume_intake_actions_rejected_total", {"reason": "rate_limited"}
    )
    assert after == (before or 0) + 1


async def test_other_requests_go_through_the_cap_cors_and_fastapi() -> None:
    admission, fast = intake_like(accept)
    other = await exchange(fast, "GET", "/other", {"origin": SECTION})
    assert other.json() == {"from": "fastapi"}
    assert other.headers["access-control-allow-origin"] == SECTION
    preflight = {"origin": SECTION, "access-control-request-method": "POST"}
    allowed = await exchange(fast, "OPTIONS", "/v1/actions", preflight)
    assert answer_of(allowed) == answer_of(
        await exchange(admission, "OPTIONS", "/v1/actions", preflight)
    )
    assert allowed.status_code == 200
    refused = await exchange(
        fast, "OPTIONS", "/v1/actions", {**preflight, "origin": "https://x.org"}
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await exchange(fast, "GET", "/v1/actions")).status_code == 405  # FastAPI's


async def test_the_action_routes_take_slots_of_the_same_cap_and_are_shed_past_it() -> None:
    release = asyncio.Event()

    async def held(request: Request) -> Response:
        await release.wait()
        return await accept(request)

    admission, fast = intake_like(held, limit=2)

    async def in_flight() -> int:
        return admission.in_flight

    anonymous = asyncio.create_task(exchange(fast, "POST", "/v1/actions"))
    await wait_until(in_flight, lambda n: n == 1, within=5, every=0.001)
    # the anonymous share (2 - ceil(2 * 0.25) = 1) is full: shed, by the same cap
    shed = await exchange(fast, "POST", "/v1/actions")
    assert shed.status_code == 503
    assert shed.json()["title"] == "Overloaded"
    assert shed.headers["retry-after"] == "2"
    keyed = asyncio.create_task(exchange(fast, "POST", "/v1/actions", {"x-api-key": "k"}))
    await wait_until(in_flight, lambda n: n == 2, within=5, every=0.001)
    assert (await exchange(admission, "GET", "/other")).status_code == 503  # the cap is full
    release.set()
    assert [(await task).status_code for task in (anonymous, keyed)] == [202, 202]
    assert (admission.in_flight, admission.anonymous) == (0, 0)


async def test_an_unexpected_error_propagates_and_frees_its_slot() -> None:
    async def broken(_: Request) -> Response:
        raise RuntimeError("bug")

    admission, fast = intake_like(broken)
    with pytest.raises(RuntimeError):  # shared.request_metrics, around, logs it and answers 500
        await call(fast, "POST", "/v1/actions")
    assert (admission.in_flight, admission.anonymous) == (0, 0)
