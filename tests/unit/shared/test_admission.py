"""The in-flight cap: past it, requests are refused at once with 503 and Retry-After, and
anonymous requests (no X-API-Key) never take the share kept for keyed partners."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message, Receive, Scope, Send

from shared.admission import Admission
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


class Held:
    """An application whose requests stay in flight until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/healthz":
            await self.release.wait()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: Admission, path: str = "/v1/actions", key: bool = False) -> list[Message]:
    headers = [(b"x-api-key", b"plume_k")] if key else []
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def status_of(sent: list[Message]) -> int:
    return int(sent[0]["status"])


async def fill(app: Admission, count: int, key: bool) -> list[asyncio.Task[list[Message]]]:
    before = app.in_flight
    tasks = [asyncio.create_task(call(app, key=key)) for _ in range(count)]

    async def in_flight() -> int:
        return app.in_flight

    await wait_until(in_flight, lambda n: n == before + count, within=5, every=0.001)
    return tasks


async def test_requests_past_the_cap_are_shed_with_retry_after() -> None:
    held = Held()
    app = Admission(held, limit=2, keyed_share=0, retry_after_s=3)
    first = await fill(app, 2, key=False)
    shed = await call(app)
    assert status_of(shed) == 503
    assert (b"retry-after", b"3") in shed[0]["headers"]
    assert status_of(await call(app, "/healthz")) == 202  # operational routes never shed
    held.release.set()
    assert [status_of(await task) for task in first] == [202, 202]
    assert (app.in_flight, app.anonymous) == (0, 0)
    assert status_of(await call(app)) == 202


async def test_anonymous_requests_leave_the_keyed_share_free() -> None:
    held = Held()
    app = Admission(held, limit=10, keyed_share=0.2)
    anonymous = await fill(app, 8, key=False)
    assert status_of(await call(app)) == 503  # the anonymous share (8 of 10) is full
    keyed = await fill(app, 2, key=True)  # partners still get in
    assert status_of(await call(app, key=True)) == 503  # the whole cap is full now
    held.release.set()
    assert {status_of(await task) for task in [*anonymous, *keyed]} == {202}
    assert (app.in_flight, app.anonymous) == (0, 0)


async def test_paths_with_an_exempt_ending_are_never_shed() -> None:
    held = Held()
    app = Admission(held, limit=1, keyed_share=0, exempt_endings=("/totals/stream",))
    first = await fill(app, 1, key=False)
    assert status_of(await call(app)) == 503
    stream = asyncio.create_task(call(app, "/v1/cases/sonia-dahmani/totals/stream"))
    held.release.set()  # the stream got in although the cap was full
    assert status_of(await stream) == 202
    assert [status_of(await task) for task in first] == [202]


async def test_a_shed_answer_carries_the_fields_the_service_names() -> None:
    held = Held()

    async def name_shed(scope: Scope, receive: Receive) -> dict[str, object]:
        return {"action_id": "named"}

    app = Admission(held, limit=1, keyed_share=0, name_shed=name_shed)
    first = await fill(app, 1, key=False)
    shed = await call(app)
    assert status_of(shed) == 503
    assert b'"action_id":"named"' in shed[1]["body"]
    held.release.set()
    assert [status_of(await task) for task in first] == [202]
