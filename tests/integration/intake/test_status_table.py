"""The contract's status table for POST /v1/actions, case by case, against the intake
served over real HTTP with the real Kafka and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from shared import apikeys
from shared.db import create_pool
from tests.integration.intake.conftest import CLOSED_CASE, OPEN_CASE, Keys, RunningIntake
from tests.integration.intake.readback import read_actions

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def signature(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action_id": str(uuid4()),
        "case_id": OPEN_CASE,
        "type": "signature",
        "supporter": {
            "name": "Awa Diallo",
            "email": f"awa-{uuid4().hex}@example.org",
            "country": "SN",
        },
        "consent": {"share_name_with_target": True, "contact": False},
        "occurred_at": "2025-12-10T09:00:00Z",
    }
    body.update(overrides)
    return body


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"]
    return body


async def test_202_only_after_kafka_has_it(
    client: httpx.AsyncClient, intake: RunningIntake
) -> None:
    body = signature()
    answer = await client.post("/v1/actions", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"action_id": body["action_id"], "status": "accepted"}
    written = await read_actions(intake.settings.kafka_bootstrap, intake.settings.actions_topic)
    [(key, event)] = [(k, e) for k, e in written if str(e.action_id) == body["action_id"]]
    assert event.case_id == OPEN_CASE and event.channel == "web" and event.source == "anonymous"
    assert event.supporter_name == "Awa Diallo" and event.supporter_email is None
    assert event.supporter_key and key == event.supporter_key.encode()
    assert event.country == "SN" and event.count == 1


async def test_the_same_action_id_again_gets_the_same_answer(client: httpx.AsyncClient) -> None:
    body = signature()
    first = await client.post("/v1/actions", json=body)
    again = await client.post("/v1/actions", json=body)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()


async def test_a_missing_action_id_is_assigned(client: httpx.AsyncClient) -> None:
    body = signature()
    del body["action_id"]
    answer = await client.post("/v1/actions", json=body)
    assert answer.status_code == 202
    UUID(answer.json()["action_id"])


async def test_400_for_a_body_that_is_not_json(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/actions", content=b'{"case_id": ', headers={"content-type": "application/json"}
    )
    assert_problem(answer, 400)


async def test_401_for_an_unknown_key(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/actions", json=signature(), headers={"X-API-Key": "nope"})
    assert_problem(answer, 401)


async def test_401_for_a_key_revoked_within_a_second(
    client: httpx.AsyncClient, intake: RunningIntake
) -> None:
    """Intake holds the keys in memory, told of a revocation by PostgreSQL's notification:
    refused within a second (issue 15), no longer on the very next request."""
    name = f"test-revoked-{uuid4().hex[:8]}"
    pool = await create_pool(intake.settings.database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            key = await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_WRITE}, 0)
        headers = {"X-API-Key": key}
        assert (
            await client.post("/v1/actions", json=signature(), headers=headers)
        ).status_code == 202
        async with pool.acquire() as conn:
            assert await apikeys.revoke_key(conn, name)
        revoked_at, statuses = time.monotonic(), []
        while time.monotonic() - revoked_at < 1.0 and 401 not in statuses:
            answer = await client.post("/v1/actions", json=signature(), headers=headers)
            statuses.append(answer.status_code)
        assert set(statuses) <= {202, 401} and statuses[-1] == 401, statuses
        assert_problem(answer, 401)
    finally:
        await pool.close()


async def test_403_for_a_tally_without_the_tally_scope(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    body = assert_problem(await client.post("/v1/actions", json=signature(count=300)), 403)
    assert body["errors"][0]["field"] == "count"
    answer = await client.post(
        "/v1/actions", json=signature(count=300), headers={"X-API-Key": keys.writer}
    )
    assert_problem(answer, 403)


async def test_a_tally_with_the_scope_is_an_event_action(
    client: httpx.AsyncClient, keys: Keys, intake: RunningIntake
) -> None:
    body = signature(type="letter", count=300, supporter=None)
    answer = await client.post("/v1/actions", json=body, headers={"X-API-Key": keys.tally})
    assert answer.status_code == 202, answer.text
    written = await read_actions(intake.settings.kafka_bootstrap, intake.settings.actions_topic)
    [event] = [e for _, e in written if str(e.action_id) == body["action_id"]]
    assert event.count == 300 and event.channel == "event" and event.source.startswith("test-tally")


async def test_403_for_a_key_without_actions_write(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.post("/v1/actions", json=signature(), headers={"X-API-Key": keys.reader})
    assert_problem(answer, 403)


async def test_403_for_batch_without_the_batch_scope(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.post(
        "/v1/actions/batch", json={"actions": [signature()]}, headers={"X-API-Key": keys.writer}
    )
    assert_problem(answer, 403)
    assert_problem(await client.post("/v1/actions/batch", json={"actions": [signature()]}), 401)


async def test_409_for_a_closed_case(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/v1/actions", json=signature(case_id=CLOSED_CASE)), 409)


async def test_413_for_a_declared_size_over_64_kib(client: httpx.AsyncClient) -> None:
    body = b'{"message": "' + b"x" * (64 * 1024) + b'"}'
    answer = await client.post(
        "/v1/actions", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 413)


async def test_413_while_streaming_a_body_without_length(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(200):  # 200 x 1 KiB, no Content-Length: chunked encoding
            yield b" " * 1024

    answer = await client.post(
        "/v1/actions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(answer, 413)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_415_for_other_content_types(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = await client.post("/v1/actions", content=b"{}", headers=headers)
    assert_problem(answer, 415)


async def test_422_lists_every_failing_field(client: httpx.AsyncClient) -> None:
    body = signature(case_id="no-such-case", channel="web")
    body["supporter"] = {"name": "=HYPERLINK()", "email": "not-an-email", "country": "XX"}
    answer = await client.post("/v1/actions", json=body)
    problem = assert_problem(answer, 422)
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "case_id",
        "channel",
        "supporter.name",
        "supporter.email",
        "supporter.country",
    }
    assert all(error["message"] for error in problem["errors"])


async def test_422_for_an_occurred_at_before_2000(client: httpx.AsyncClient) -> None:
    """Accepted with 202 once; PostgreSQL refused it (before year 1 in UTC) and delivery
    stopped on it for every case (issue 9)."""
    body = signature(occurred_at="0001-01-01T00:30:00+01:00")
    problem = assert_problem(await client.post("/v1/actions", json=body), 422)
    assert problem["errors"] == [
        {
            "field": "occurred_at",
            "code": "too_early",
            "message": "must not be before 2000-01-01T00:00:00Z",
        }
    ]


async def test_422_when_a_signature_has_no_supporter(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post("/v1/actions", json=signature(supporter=None)), 422)
    assert problem["errors"] == [
        {
            "field": "supporter",
            "code": "required_for_type",
            "message": "is required for a signature",
        }
    ]


async def test_429_for_anonymous_callers_over_their_rate(
    client: httpx.AsyncClient, intake: RunningIntake
) -> None:
    limit = intake.settings.anonymous_rate_limit
    statuses = [
        (await client.post("/v1/actions", json=signature())).status_code for _ in range(limit)
    ]
    assert statuses == [202] * limit
    answer = await client.post("/v1/actions", json=signature())
    assert_problem(answer, 429)
    assert int(answer.headers["retry-after"]) >= 1


async def test_429_for_a_key_over_its_rate(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.batch_limited}
    first = await client.post(
        "/v1/actions/batch", json={"actions": [signature() for _ in range(3)]}, headers=headers
    )
    assert first.status_code == 200, first.text
    answer = await client.post(
        "/v1/actions/batch", json={"actions": [signature()]}, headers=headers
    )
    assert_problem(answer, 429)
    assert int(answer.headers["retry-after"]) >= 1
