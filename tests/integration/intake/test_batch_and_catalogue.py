"""The batch endpoint's per-item results, and the catalogue reaching intake live."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.integration.intake.conftest import (
    CLOSED_CASE,
    OPEN_CASE,
    Keys,
    RunningIntake,
    campaign_for_tests,
    publish_cases,
)
from tests.integration.intake.readback import read_actions
from tests.integration.intake.test_status_table import assert_problem, signature
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_batch_answers_per_item_and_kafka_has_every_accepted_one(
    client: httpx.AsyncClient, keys: Keys, intake: RunningIntake
) -> None:
    actions = [signature() for _ in range(10)]
    actions[3]["supporter"]["email"] = "broken"
    actions[5]["case_id"] = CLOSED_CASE
    actions[7]["count"] = 40  # the batch key has actions:tally
    answer = await client.post(
        "/v1/actions/batch", json={"actions": actions}, headers={"X-API-Key": keys.batch}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (8, 2)
    assert [r["index"] for r in body["results"]] == list(range(10))
    assert body["results"][3]["status"] == "rejected"
    assert body["results"][3]["errors"][0]["field"] == "supporter.email"
    assert body["results"][5]["errors"][0]["field"] == "case_id"
    accepted = {r["action_id"] for r in body["results"] if r["status"] == "accepted"}
    written = await read_actions(intake.settings.kafka_bootstrap, intake.settings.actions_topic)
    events = {str(e.action_id): e for _, e in written if str(e.action_id) in accepted}
    assert set(events) == accepted
    assert {e.channel for e in events.values()} == {"partner"}
    assert events[actions[7]["action_id"]].count == 40


async def test_a_batch_that_is_not_a_batch_is_422(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.batch}
    bodies: list[dict[str, object]] = [
        {},
        {"actions": []},
        {"actions": [signature()] * 1_001},
        {"actions": 3},
    ]
    for body in bodies:
        assert_problem(await client.post("/v1/actions/batch", json=body, headers=headers), 422)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_a_number_json_does_not_have_is_400_on_both_routes(
    client: httpx.AsyncClient, keys: Keys, number: bytes
) -> None:
    """Not JSON (RFC 8259 has no NaN or Infinity; 1e400 is beyond a double): the whole
    request is refused as such, the same on both routes (it used to be a 500 for a batch)."""
    item = orjson.dumps(signature(count=1)).replace(b'"count":1', b'"count":' + number)
    headers = {"X-API-Key": keys.batch, "content-type": "application/json"}
    batch = b'{"actions": [%s, %s]}' % (orjson.dumps(signature()), item)
    answer = await client.post("/v1/actions/batch", content=batch, headers=headers)
    assert_problem(answer, 400)
    single = await client.post(
        "/v1/actions", content=item, headers={"content-type": "application/json"}
    )
    assert_problem(single, 400)


async def test_a_batch_over_4_mib_is_413(client: httpx.AsyncClient, keys: Keys) -> None:
    body = b'{"actions": [' + b" " * (4 * 1024 * 1024) + b"]}"
    answer = await client.post(
        "/v1/actions/batch",
        content=body,
        headers={"X-API-Key": keys.batch, "content-type": "application/json"},
    )
    assert_problem(answer, 413)


async def test_cases_lists_open_and_closed_cases_with_targets(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/cases")
    assert answer.status_code == 200
    cases = {case["id"]: case for case in answer.json()["cases"]}
    assert cases[OPEN_CASE]["status"] == "open" and cases[CLOSED_CASE]["status"] == "closed"
    assert all(case["targets"] for case in cases.values())
    assert len(cases) == 9


async def test_closing_a_case_reaches_intake_without_a_restart(
    client: httpx.AsyncClient, intake: RunningIntake
) -> None:
    campaign = campaign_for_tests()
    case = campaign.cases[1].id
    body = signature(case_id=case)
    assert (await client.post("/v1/actions", json=body)).status_code == 202
    await publish_cases(intake.settings, campaign_for_tests(closed=(case,)))

    async def status() -> int:
        return (await client.post("/v1/actions", json=signature(case_id=case))).status_code

    await wait_until(status, lambda s: s == 409, within=10, every=0.1)
    await publish_cases(intake.settings, campaign_for_tests())  # reopen for other tests
    await wait_until(status, lambda s: s == 202, within=10, every=0.1)
