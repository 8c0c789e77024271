"""One client must never stop intake (issue 9): slow bodies are cut off and never take the
share kept for keyed partners; large batches wait in line for room instead of all being
decoded at once; a client hanging up half-way is not a server error. Served over real HTTP
with the same protocol and limits as `plume serve intake`, small limits to be quick."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from tests.integration.intake.conftest import (
    OPEN_CASE,
    Keys,
    RunningIntake,
    campaign_for_tests,
    create_keys,
    drop_topics,
    isolated_settings,
    prepare_topics,
    revoke_keys,
    serve,
    wait_ready,
)
from tests.integration.intake.uploads import SlowUpload, metric
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
MIB = 2**20
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
async def guarded() -> AsyncIterator[tuple[RunningIntake, Keys]]:
    settings = isolated_settings(
        max_in_flight=10,
        keyed_share=0.2,
        anonymous_rate_limit=0,
        # A body that stops for a whole second is cut off; the uploads below send a little
        # every 0.1 s while they are "alive" (the rate rule itself: tests/unit/shared).
        http_body_timeout_s=1.0,
        http_body_min_rate=1,
        batch_budget_bytes=8 * MIB,
        batch_budget_per_key_bytes=4 * MIB,
        batch_wait_s=1.0,
    )
    await prepare_topics(settings, campaign_for_tests())
    running = await serve(settings)
    keys = await create_keys(settings.database_url)
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_ready(client, running.url)
    yield running, keys
    await revoke_keys(settings.database_url, keys)
    await running.stop()
    await drop_topics(settings)


def letter() -> dict[str, Any]:
    return {"action_id": str(uuid4()), "case_id": OPEN_CASE, "type": "letter"}


async def post_action(client: httpx.AsyncClient, who: str, key: str | None) -> httpx.Response:
    headers = {"X-Forwarded-For": who, **({"X-API-Key": key} if key else {})}
    return await client.post("/v1/actions", json=letter(), headers=headers)


async def test_slow_anonymous_bodies_leave_room_for_keys_then_are_cut_off(
    guarded: tuple[RunningIntake, Keys],
) -> None:
    intake, keys = guarded
    headers = {**JSON, "X-Forwarded-For": "10.77.0.1"}
    slow = [await SlowUpload(intake.url, "/v1/actions", 60_000, headers).start() for _ in range(8)]
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=10) as client:
            # The 8 slow ones fill the anonymous share (8 of 10) once they are in.
            shed = await wait_until(
                lambda: post_action(client, "10.77.0.2", None),
                lambda answer: answer.status_code == 503,
                within=10,
            )
            assert shed.headers["content-type"] == "application/problem+json"
            assert shed.headers["retry-after"]
            keyed = await post_action(client, "10.77.0.3", keys.writer)
            assert keyed.status_code == 202, keyed.text
            for upload in slow:  # the bodies stop coming: each is cut off with 408
                upload.stop_trickling()
            answers = await asyncio.gather(*(upload.answer(within=10) for upload in slow))
            assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers
            assert all(b"application/problem+json" in a for a in answers)
            after = await post_action(client, "10.77.0.4", None)
            assert after.status_code == 202, after.text
            timed_out = await metric(
                client, "plume_http_requests_total", route="/v1/actions", status="408"
            )
            assert timed_out >= 8
    finally:
        for upload in slow:
            upload.hang_up()


async def test_batches_of_one_key_wait_for_room_and_past_the_wait_get_429(
    guarded: tuple[RunningIntake, Keys],
) -> None:
    intake, keys = guarded
    a_headers = {**JSON, "X-API-Key": keys.batch}
    batch = {"actions": [letter()]}
    # A slow (but alive) upload of 4 MiB holds all of key a's share.
    big = SlowUpload(intake.url, "/v1/actions/batch", 4 * MIB, a_headers)
    await big.start()
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as client:
            await wait_until(
                lambda: metric(client, "plume_intake_batch_bytes_held"),
                lambda held: held >= 4 * MIB,
                within=10,
            )
            refused = await client.post("/v1/actions/batch", json=batch, headers=a_headers)
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["retry-after"]
            other_key = {**JSON, "X-API-Key": keys.all_actions}  # within the total: goes
            accepted = await client.post("/v1/actions/batch", json=batch, headers=other_key)
            assert (accepted.status_code, accepted.json()["accepted"]) == (200, 1)

            # A 1 MiB batch waits in line with its body unread (for the server, not the
            # client: its body's timeout does not run meanwhile, tests/unit/shared).
            large = {"actions": [{**letter(), "message": "x" * 1_000} for _ in range(1_000)]}
            waiting = asyncio.create_task(
                client.post("/v1/actions/batch", json=large, headers=a_headers)
            )
            await wait_until(
                lambda: metric(client, "plume_intake_batches_waiting"), lambda n: n == 1
            )
            big.hang_up()  # its room is freed: the waiting batch goes in
            answer = await waiting
            assert (answer.status_code, answer.json()["accepted"]) == (200, 1_000)
    finally:
        big.hang_up()


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and str(UUID(value)) == value


async def test_an_overloaded_503_names_every_refused_action(
    guarded: tuple[RunningIntake, Keys],
) -> None:
    """Shed before its body is read, a request still names its actions' ids (contract v2:
    every 503), so that the client's retry counts once."""
    intake, keys = guarded
    anonymous = {**JSON, "X-Forwarded-For": "10.77.2.1"}
    keyed = {**JSON, "X-API-Key": keys.writer}
    slow = [
        await SlowUpload(intake.url, "/v1/actions", 60_000, anonymous).start() for _ in range(8)
    ]
    slow += [await SlowUpload(intake.url, "/v1/actions", 60_000, keyed).start() for _ in range(2)]
    given = str(uuid4())
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=10) as client:
            single = {"case_id": OPEN_CASE, "type": "letter"}  # no id: one is assigned
            shed = await wait_until(
                lambda: client.post("/v1/actions", json=single, headers=anonymous),
                lambda answer: answer.status_code == 503,
                within=10,
            )
            assert shed.json()["title"] == "Overloaded"
            assert is_uuid(shed.json()["action_id"]), shed.text
            batch = {"actions": [{**letter(), "action_id": given}, single]}
            headers = {**JSON, "X-API-Key": keys.batch}
            shed = await wait_until(  # the keyed share fills once the 2 keyed uploads are in
                lambda: client.post("/v1/actions/batch", json=batch, headers=headers),
                lambda answer: answer.status_code == 503,
                within=10,
            )
            named = shed.json()["action_ids"]
            assert (shed.json()["title"], named[0]) == ("Overloaded", given), shed.text
            assert is_uuid(named[1]) and named[1] != given
    finally:
        for upload in slow:
            upload.hang_up()


async def test_a_busy_503_names_every_action_of_the_batch(
    guarded: tuple[RunningIntake, Keys],
) -> None:
    """The batch budget's 503 comes before the body is read; it names the ids all the same."""
    intake, keys = guarded
    holders = [
        SlowUpload(intake.url, "/v1/actions/batch", 4 * MIB, {**JSON, "X-API-Key": key})
        for key in (keys.batch, keys.all_actions)  # each fills its key's share: all is full
    ]
    for upload in holders:
        await upload.start()
    given = str(uuid4())
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as client:
            await wait_until(
                lambda: metric(client, "plume_intake_batch_bytes_held"),
                lambda held: held >= 8 * MIB,
                within=10,
            )
            unnamed = {"case_id": OPEN_CASE, "type": "letter"}
            batch = {"actions": [unnamed, {**letter(), "action_id": given}, "odd"]}
            headers = {**JSON, "X-API-Key": keys.batch_limited}
            busy = await client.post("/v1/actions/batch", json=batch, headers=headers)
            assert (busy.status_code, busy.json()["title"]) == (503, "Busy"), busy.text
            named = busy.json()["action_ids"]
            assert is_uuid(named[0]) and named[1:] == [given, None]
            assert busy.headers["retry-after"]
    finally:
        for upload in holders:
            upload.hang_up()


async def test_a_client_hanging_up_mid_body_is_499_not_a_server_error(
    guarded: tuple[RunningIntake, Keys], caplog: pytest.LogCaptureFixture
) -> None:
    intake, _ = guarded
    headers = {**JSON, "X-Forwarded-For": "10.77.1.1"}
    async with httpx.AsyncClient(base_url=intake.url, timeout=10) as client:
        labels = {"route": "/v1/actions", "method": "POST"}
        closed_before = await metric(client, "plume_http_requests_total", status="499", **labels)
        failed_before = await metric(client, "plume_http_requests_total", status="500", **labels)
        with caplog.at_level(logging.ERROR):
            for _ in range(3):
                upload = await SlowUpload(intake.url, "/v1/actions", 60_000, headers).start()
                upload.hang_up()
            await wait_until(
                lambda: metric(client, "plume_http_requests_total", status="499", **labels),
                lambda n: n == closed_before + 3,
                within=10,
            )
        failed = await metric(client, "plume_http_requests_total", status="500", **labels)
    assert failed == failed_before
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
