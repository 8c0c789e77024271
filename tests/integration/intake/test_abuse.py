"""Issue 9's intake findings over real HTTP: legitimate names with joiners accepted, key
guessing throttled per address, and a batch larger than a key's burst refused whole
rather than driving its bucket hours into debt."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from shared import apikeys
from shared.db import create_pool
from tests.integration.intake.conftest import Keys, RunningIntake
from tests.integration.intake.readback import read_actions
from tests.integration.intake.test_status_table import assert_problem, signature

pytestmark = pytest.mark.integration
# Mehrdad in Persian (a ZWNJ between its parts) and a family emoji (ZWJ sequence).
NAME = "\u0645\u0647\u0631\u200c\u062f\u0627\u062f \U0001f469\u200d\U0001f469\u200d\U0001f467"


async def test_a_persian_name_with_a_zero_width_non_joiner_is_accepted(
    client: httpx.AsyncClient, intake: RunningIntake
) -> None:
    body = signature()
    body["supporter"]["name"] = NAME
    answer = await client.post("/v1/actions", json=body)
    assert answer.status_code == 202, answer.text
    written = await read_actions(intake.settings.kafka_bootstrap, intake.settings.actions_topic)
    [event] = [e for _, e in written if str(e.action_id) == body["action_id"]]
    assert event.supporter_name == NAME


async def test_random_keys_from_one_address_are_refused_429_before_any_look_up(
    client: httpx.AsyncClient, intake: RunningIntake, keys: Keys
) -> None:
    limit = intake.settings.key_guess_limit
    refused_before = await _refused_guesses(client)
    statuses, retry_after = [], []
    for _ in range(limit + 20):
        answer = await client.post(
            "/v1/actions", json=signature(), headers={"X-API-Key": secrets.token_urlsafe(32)}
        )
        statuses.append(answer.status_code)
        retry_after.append(answer.headers.get("retry-after"))
    assert statuses == [401] * limit + [429] * 20
    assert all(1 <= int(wait) <= 60 for wait in retry_after[limit:] if wait)
    assert await _refused_guesses(client) == refused_before + 20
    # Another address with a live key is not affected; anonymous callers neither.
    other = {"X-Forwarded-For": "192.0.2.77", "X-API-Key": keys.writer}
    assert (await client.post("/v1/actions", json=signature(), headers=other)).status_code == 202
    assert (await client.post("/v1/actions", json=signature())).status_code == 202


async def _refused_guesses(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    lines = [line for line in text.splitlines() if line.startswith("plume_intake_key_guesses")]
    return sum(float(line.split()[-1]) for line in lines if "_total " in line)


@pytest.fixture
async def ten_a_minute(intake: RunningIntake) -> AsyncIterator[str]:
    name = f"test-ten-a-minute-{uuid4().hex[:8]}"
    pool = await create_pool(intake.settings.database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            yield await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_BATCH}, 10)
            await apikeys.revoke_key(conn, name)
    finally:
        await pool.close()


async def test_a_batch_above_a_keys_burst_is_refused_whole_and_spends_nothing(
    client: httpx.AsyncClient, ten_a_minute: str
) -> None:
    headers = {"X-API-Key": ten_a_minute}
    huge = {"actions": [signature() for _ in range(1_000)]}
    problem = assert_problem(
        await client.post("/v1/actions/batch", json=huge, headers=headers), 422
    )
    [error] = problem["errors"]
    assert error["field"] == "actions" and "at most 10 actions" in error["message"]
    # Nothing was spent: a full minute's worth still passes at once...
    full = {"actions": [signature() for _ in range(10)]}
    answer = await client.post("/v1/actions/batch", json=full, headers=headers)
    assert answer.status_code == 200 and answer.json()["accepted"] == 10, answer.text
    # ...and then the next action waits seconds, never more than a minute.
    one = {"actions": [signature()]}
    refused = await client.post("/v1/actions/batch", json=one, headers=headers)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
