"""The bounded load generator and the retry rule of plume's own clients, against httpx's
in-process transport (no network)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from ops.load import Attempt, BoundedLoad, Outcome, RetryPolicy, open_loop, post_action, settle

pytestmark = pytest.mark.unit
FAST = RetryPolicy(give_up_after_s=2, max_pause_s=0.01, first_pause_s=0.001)
Handler = Callable[[httpx.Request], httpx.Response]


def answers(*statuses: int, assigned: str | None = None) -> tuple[Handler, list[dict[str, str]]]:
    """A handler answering `statuses` in turn (the last one again after), and the bodies seen."""
    seen: list[dict[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        status = statuses[min(len(seen), len(statuses)) - 1]
        body = {"status": status, "action_id": assigned} if assigned else {"status": status}
        return httpx.Response(status, json=body, headers={"Retry-After": "5"})

    return handle, seen


async def post(handler: Handler, body: dict[str, str], policy: RetryPolicy = FAST) -> Outcome:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return (await post_action(client, "http://intake/v1/actions", body, {}, policy)).outcome


async def test_a_refused_write_is_retried_with_the_same_action_id() -> None:
    handler, seen = answers(503, 503, 202)
    assert await post(handler, {"action_id": "a-1"}) is Outcome.OK
    assert [b["action_id"] for b in seen] == ["a-1", "a-1", "a-1"]


async def test_retries_carry_the_action_id_intake_assigned() -> None:
    handler, seen = answers(503, 202, assigned="server-id")
    assert await post(handler, {"case_id": "x"}) is Outcome.OK
    assert "action_id" not in seen[0] and seen[1]["action_id"] == "server-id"


async def test_a_definite_refusal_is_not_retried() -> None:
    handler, seen = answers(422)
    assert await post(handler, {"action_id": "a"}) is Outcome.REFUSED
    assert len(seen) == 1


async def test_an_action_never_acknowledged_after_a_503_stays_unknown() -> None:
    handler, _ = answers(503)
    policy = RetryPolicy(give_up_after_s=0.05, max_pause_s=0.01, first_pause_s=0.001)
    assert await post(handler, {"action_id": "a"}, policy) is Outcome.UNKNOWN


def test_only_attempts_that_never_reached_intake_make_a_refusal() -> None:
    refused = Attempt(0.0, None, "ConnectError")
    timed_out = Attempt(1.0, None, "ReadTimeout")
    assert settle([refused, refused]) is Outcome.REFUSED
    assert settle([timed_out, refused]) is Outcome.UNKNOWN
    assert settle([refused, Attempt(2.0, 202)]) is Outcome.OK
    assert settle([Attempt(0.0, 409)]) is Outcome.REFUSED


async def test_the_load_never_has_more_than_its_cap_in_flight_and_ends_by_itself() -> None:
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()  # a server that never answers

    load, stop = BoundedLoad(cap=5), asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    due = await open_loop(load, rate=500, stop=stop, make_request=lambda n: stuck)
    assert load.most_in_flight == 5 and load.not_sent == due - 5 and due > 20
    assert await load.drain(within=0.01) == 5
    assert load.in_flight == 0


async def test_a_batch_is_retried_with_the_ids_intake_named_for_its_items() -> None:
    seen: list[dict[str, list[dict[str, str]]]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if len(seen) == 1:
            return httpx.Response(503, json={"action_ids": ["given", "assigned"]})
        return httpx.Response(200, json={"accepted": 2})

    body = {"actions": [{"action_id": "given"}, {"case_id": "x"}]}
    assert await post(handle, body) is Outcome.OK  # type: ignore[arg-type]
    assert [item.get("action_id") for item in seen[1]["actions"]] == ["given", "assigned"]
