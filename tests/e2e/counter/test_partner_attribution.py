"""Contract v2, "Partners", through the running stack: a partner's actions are counted
under its key's name (totals, history, the case's stream, the totals topic), its tally
carries a country, it looks up what became of its own actions (another key sees
`unknown`), a batch item with two faults is told both, and an invalidation takes the
partner's share out of `by_source` too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import orjson
import pytest

from services.counter.domain.ports import Invalidation
from services.counter.entrypoints.corrections import run_invalidate
from services.counter.settings import CounterSettings
from shared import apikeys
from shared.db import create_pool
from tests.conftest import Stack
from tests.readback import read_records
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
CASE = "juan-lopez"
TALLY_COUNTRY = "IS"  # no other test sends actions from Iceland
PARTNER_SCOPES = {apikeys.Scope.ACTIONS_WRITE, apikeys.Scope.ACTIONS_BATCH}
TALLY_SCOPES = {apikeys.Scope.ACTIONS_WRITE, apikeys.Scope.ACTIONS_TALLY}


@dataclass(frozen=True)
class Key:
    name: str
    secret: str

    @property
    def header(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}


@pytest.fixture
async def keys(stack: Stack) -> AsyncIterator[dict[str, Key]]:
    """A partner (actions and batches), its event team (tallies), another partner, and a
    delivery team's key (no actions:write); revoked afterwards."""
    run = uuid4().hex[:8]
    wanted = {
        "partner": PARTNER_SCOPES,
        "event": TALLY_SCOPES,
        "other": {apikeys.Scope.ACTIONS_WRITE},
        "reader": {apikeys.Scope.DOSSIERS_READ},
    }
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        made = {}
        async with pool.acquire() as conn:
            for role, scopes in wanted.items():
                name = f"attribution-{role}-{run}"
                made[role] = Key(name, await apikeys.create_key(conn, name, scopes, 0))
        yield made
        async with pool.acquire() as conn:
            for key in made.values():
                await apikeys.revoke_key(conn, key.name)
    finally:
        await pool.close()


async def totals(client: httpx.AsyncClient, stack: Stack) -> dict[str, Any]:
    answer = await client.get(f"{stack.counter_url}/v1/cases/{CASE}/totals")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def post(client: httpx.AsyncClient, stack: Stack, body: object, key: Key | None) -> str:
    headers = key.header if key else {}
    answer = await client.post(f"{stack.intake_url}/v1/actions", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    action_id: str = answer.json()["action_id"]
    return action_id


async def look_up(
    client: httpx.AsyncClient, stack: Stack, action_id: str, key: Key | None
) -> httpx.Response:
    headers = key.header if key else {}
    return await client.get(f"{stack.counter_url}/v1/actions/{action_id}", headers=headers)


async def status_of(client: httpx.AsyncClient, stack: Stack, action_id: str, key: Key) -> str:
    answer = await look_up(client, stack, action_id, key)
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def signature(email: str) -> dict[str, object]:
    return {
        "case_id": CASE,
        "type": "signature",
        "supporter": {"name": "Attribution Test", "email": email, "language": "es-HN"},
        "tracking": {"utm_source": "partner-newsletter", "referrer": "https://example.org/"},
    }


async def test_a_partner_sees_its_share_and_what_became_of_its_actions(
    stack: Stack, keys: dict[str, Key]
) -> None:
    partner, event, other = keys["partner"], keys["event"], keys["other"]
    email = f"attribution-{uuid4().hex}@example.org"
    async with httpx.AsyncClient(timeout=10.0) as client:
        before = await totals(client, stack)
        signed = await post(client, stack, signature(email), partner)
        again = await post(client, stack, signature(email.upper()), partner)  # same supporter
        letter = await post(client, stack, {"case_id": CASE, "type": "letter"}, partner)
        tally = {
            "case_id": CASE,
            "type": "letter",
            "count": 300,
            "supporter": {"country": TALLY_COUNTRY},
        }
        tallied = await post(client, stack, tally, event)

        await wait_until(
            lambda: status_of(client, stack, tallied, event), lambda s: s == "counted", within=30
        )
        assert await status_of(client, stack, signed, partner) == "counted"
        assert await status_of(client, stack, letter, partner) == "counted"
        assert await status_of(client, stack, again, partner) == "duplicate"

        after = await wait_until(
            lambda: totals(client, stack),
            lambda t: t["by_source"].get(event.name) == 300,
            within=10,
        )
        assert after["by_source"][partner.name] == 2  # the duplicate added nothing
        countries_before = before["by_country"].get(TALLY_COUNTRY, 0)
        assert after["by_country"][TALLY_COUNTRY] - countries_before == 300

        found = (await look_up(client, stack, signed, partner)).json()
        assert set(found) == {"action_id", "case_id", "status", "counted_at"}
        assert (found["action_id"], found["case_id"]) == (signed, CASE)
        assert found["counted_at"].endswith("Z")
        duplicate = (await look_up(client, stack, again, partner)).json()
        assert (duplicate["case_id"], duplicate["counted_at"]) == (CASE, None)

        # another key's action reads exactly as one never seen
        theirs = (await look_up(client, stack, signed, other)).json()
        never = str(uuid4())
        unseen = (await look_up(client, stack, never, other)).json()
        assert theirs == {**unseen, "action_id": signed}
        assert unseen == {
            "action_id": never,
            "case_id": None,
            "status": "unknown",
            "counted_at": None,
        }

        history = (await client.get(f"{stack.counter_url}/v1/cases/{CASE}/history")).json()
        by_source: dict[str, int] = {}
        for point in history["hours"]:
            for name, count in point["by_source"].items():
                by_source[name] = by_source.get(name, 0) + count
        assert (by_source[partner.name], by_source[event.name]) == (2, 300)
        await _the_stream_and_the_topic_carry_by_source(client, stack, event.name)


async def _the_stream_and_the_topic_carry_by_source(
    client: httpx.AsyncClient, stack: Stack, name: str
) -> None:
    url = f"{stack.counter_url}/v1/cases/{CASE}/totals/stream"
    async with client.stream("GET", url, timeout=10.0) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                assert orjson.loads(line[6:])["by_source"][name] == 300
                break

    async def published() -> int:
        latest: dict[str, Any] = {}
        for key, value in await read_records(stack.kafka_bootstrap, "plume.case-totals.v1"):
            message = orjson.loads(value)
            if key == CASE.encode() and message["revision"] >= latest.get("revision", -1):
                latest = message
        count: int = latest.get("by_source", {}).get(name, 0)
        return count

    await wait_until(published, lambda n: n == 300, within=10)


async def test_the_lookup_refuses_who_may_not_ask(stack: Stack, keys: dict[str, Key]) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        some_id = str(uuid4())
        for key, status in ((None, 401), (keys["reader"], 403)):
            answer = await look_up(client, stack, some_id, key)
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
        revoked = Key("nobody", "plume_not-a-key")
        assert (await look_up(client, stack, some_id, revoked)).status_code == 401
        malformed = await look_up(client, stack, "not-a-uuid", keys["partner"])
        assert malformed.status_code == 422
        assert malformed.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in malformed.json()["errors"]] == ["action_id"]


async def test_a_batch_item_with_two_faults_is_told_both(
    stack: Stack, keys: dict[str, Key]
) -> None:
    items = [
        {"case_id": CASE, "type": "tweet"},
        {"case_id": "no-such-case", "type": "signature"},
        {"case_id": CASE, "type": "letter", "count": 2, "supporter": {"country": "SN"}},
    ]
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.post(
            f"{stack.intake_url}/v1/actions/batch",
            json={"actions": items},
            headers=keys["partner"].header,
        )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert results[0]["status"] == "accepted"
    assert [(e["field"], e["code"]) for e in results[1]["errors"]] == [
        ("case_id", "unknown_case"),
        ("supporter", "required_for_type"),
    ]
    # a tally's country is valid, but this key may not send tallies
    assert [e["code"] for e in results[2]["errors"]] == ["tally_scope_required"]


async def test_invalidating_a_partner_takes_its_share_out_of_by_source(
    stack: Stack, keys: dict[str, Key]
) -> None:
    partner = keys["partner"]
    async with httpx.AsyncClient(timeout=10.0) as client:
        sent = [
            await post(client, stack, {"case_id": CASE, "type": "email"}, partner) for _ in range(3)
        ]
        await wait_until(
            lambda: totals(client, stack),
            lambda t: t["by_source"].get(partner.name) == 3,
            within=30,
        )
        settings = CounterSettings(database_url=stack.database_url)
        outcome = await run_invalidate(settings, Invalidation(source=partner.name))
        assert len(outcome.counted) == 3
        await wait_until(
            lambda: totals(client, stack),
            lambda t: partner.name not in t["by_source"],
            within=10,
        )
        assert {await status_of(client, stack, i, partner) for i in sent} == {"invalidated"}
