"""Counting rules end to end: intake normalises the email, the counter counts a supporter's
signature once per case, a re-sent action_id once, and the live stream shows the change."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import httpx
import orjson
import pytest

from ops.verify import caught_up
from tests.conftest import Stack
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
CASE = "juan-lopez"


async def total(client: httpx.AsyncClient, stack: Stack) -> int:
    answer = await client.get(f"{stack.counter_url}/v1/cases/{CASE}/totals")
    assert answer.status_code == 200, answer.text
    value: int = answer.json()["total"]
    return value


def signature_body(email: str, action_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "case_id": CASE,
        "type": "signature",
        "supporter": {"name": "Case Test", "email": email, "country": "SN"},
    }
    if action_id:
        body["action_id"] = action_id
    return body


async def test_one_supporter_signs_once_whatever_the_letter_case(stack: Stack) -> None:
    local = f"e2e-{uuid4().hex}"
    async with httpx.AsyncClient(timeout=5.0) as client:
        before = await total(client, stack)
        letter_id = str(uuid4())
        for body in (
            signature_body(f"{local}@example.org"),
            signature_body(f"  {local.upper()}@Example.ORG "),
            {"case_id": CASE, "type": "letter", "action_id": letter_id},
            {"case_id": CASE, "type": "letter", "action_id": letter_id},
        ):
            answer = await client.post(f"{stack.intake_url}/v1/actions", json=body)
            assert answer.status_code == 202, answer.text
        await wait_until(lambda: total(client, stack), lambda t: t >= before + 2, within=10)
        # Once the counter has committed past every record on the topic, a duplicate
        # would be in its stored total; the read API then shows that same total.
        pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
        assert pool is not None
        try:
            await caught_up(pool, "counter", within=30)
            stored = await pool.fetchval(
                "SELECT total FROM counter.case_totals WHERE case_id = $1", CASE
            )
        finally:
            await pool.close()
        assert stored == before + 2
        assert await wait_until(lambda: total(client, stack), lambda t: t == stored) == before + 2


async def test_the_stream_shows_a_new_action(stack: Stack) -> None:
    events: list[dict[str, object]] = []

    async def listen(response: httpx.Response) -> None:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(orjson.loads(line[6:]))

    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{stack.counter_url}/v1/totals/stream") as response,
    ):
        listener = asyncio.create_task(listen(response))
        try:
            before = await total(client, stack)
            posted = await client.post(
                f"{stack.intake_url}/v1/actions", json={"case_id": CASE, "type": "tweet"}
            )
            assert posted.status_code == 202, posted.text

            async def latest() -> int:
                mine = [int(str(e["total"])) for e in events if e["case_id"] == CASE]
                return max(mine, default=-1)

            await wait_until(latest, lambda t: t >= before + 1, within=10)
        finally:
            listener.cancel()
