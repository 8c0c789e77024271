"""Fault test: a private Kafka broker is killed (SIGKILL) during traffic. While it is down
no request may be answered 2xx, refusals are 503 with Retry-After and readiness is false;
once it is back, writes are accepted again and every action answered 2xx (before, during
or after) is in the topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from shared.settings import InfraSettings
from tests.integration.intake.conftest import (
    RunningIntake,
    campaign_for_tests,
    isolated_settings,
    prepare_topics,
    serve,
    wait_ready,
)
from tests.integration.intake.readback import read_actions
from tests.integration.intake.test_status_table import signature
from tests.throwaway import ThrowawayKafka
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
WORKERS = 8


@dataclass(frozen=True)
class Answer:
    action_id: str
    sent: float
    answered: float
    status: int
    retry_after: str | None
    named: str | None = None  # the action_id a 503 names, to retry with (contract v2)


@pytest.fixture(scope="module")
def broker() -> Iterator[ThrowawayKafka]:
    kafka = ThrowawayKafka()
    kafka.start()
    yield kafka
    kafka.destroy()


@pytest.fixture(scope="module")
async def outage_intake(broker: ThrowawayKafka) -> AsyncIterator[RunningIntake]:
    settings = isolated_settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=InfraSettings().database_url,
        anonymous_rate_limit=0,
        produce_timeout_s=2.0,
        retry_after_s=1,
    )
    await prepare_topics(settings, campaign_for_tests())
    running = await serve(settings)
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_ready(client, running.url, within=60)
    yield running
    await running.stop()


async def traffic(
    client: httpx.AsyncClient,
    answers: list[Answer],
    stop: asyncio.Event,
    accepting: Callable[[], bool],
) -> None:
    while not stop.is_set():
        body = signature()
        sent = time.monotonic()
        try:
            answer = await client.post("/v1/actions", json=body)
        except httpx.TransportError:
            continue
        answers.append(
            Answer(
                body["action_id"],
                sent,
                time.monotonic(),
                answer.status_code,
                answer.headers.get("retry-after"),
                answer.json().get("action_id") if answer.status_code == 503 else None,
            )
        )
        if answer.status_code == 503:  # a polite client waits until writes are taken again

            async def accepts_again() -> bool:
                return stop.is_set() or accepting()

            await wait_until(accepts_again)


async def test_kill_kafka_during_traffic(
    broker: ThrowawayKafka, outage_intake: RunningIntake
) -> None:
    answers: list[Answer] = []
    stop = asyncio.Event()
    publisher = outage_intake.parts.publisher
    assert publisher is not None

    def accepting() -> bool:  # not refusing at once after a failed write
        return publisher.available()

    async with httpx.AsyncClient(base_url=outage_intake.url, timeout=30) as client:
        workers = [
            asyncio.create_task(traffic(client, answers, stop, accepting)) for _ in range(WORKERS)
        ]

        async def accepted() -> int:
            return sum(1 for a in answers if a.status == 202)

        await wait_until(accepted, lambda n: n >= 200, within=30)
        await asyncio.to_thread(broker.kill)
        killed = time.monotonic()

        async def refused_since_kill() -> int:
            return sum(1 for a in answers if a.sent > killed and a.status == 503)

        await wait_until(refused_since_kill, lambda n: n >= 20, within=30)

        async def readiness() -> int:
            return (await client.get("/readyz")).status_code

        assert await readiness() == 503
        # Quiet for longer than Retry-After: readiness must come from probing Kafka, not
        # only from recent failed writes.
        stop.set()
        await asyncio.gather(*workers)
        quiet_from = time.monotonic()

        async def quiet_for() -> float:
            return time.monotonic() - quiet_from

        await wait_until(quiet_for, lambda s: s > 2 * outage_intake.settings.retry_after_s)
        assert await readiness() == 503
        stop.clear()
        workers = [
            asyncio.create_task(traffic(client, answers, stop, accepting)) for _ in range(WORKERS)
        ]
        await wait_until(refused_since_kill, lambda n: n >= 40, within=30)
        restarting = time.monotonic()
        await asyncio.to_thread(broker.start)

        async def accepted_since_restart() -> int:
            return sum(1 for a in answers if a.sent > restarting and a.status == 202)

        await wait_until(accepted_since_restart, lambda n: n >= 50, within=60)
        await wait_until(readiness, lambda s: s == 200, within=30)
        stop.set()
        await asyncio.gather(*workers)

    while_down = [a for a in answers if a.sent > killed and a.answered < restarting]
    assert while_down, "no request was answered while Kafka was down"
    assert not [a for a in while_down if 200 <= a.status < 300]
    assert {a.status for a in while_down} == {503}
    assert all(a.retry_after and int(a.retry_after) >= 1 for a in while_down)
    assert all(a.named == a.action_id for a in while_down), "a 503 must name its action_id"

    acknowledged = {a.action_id for a in answers if a.status == 202}
    written = await read_actions(broker.bootstrap, outage_intake.settings.actions_topic)
    in_topic = {str(event.action_id) for _, event in written}
    missing = acknowledged - in_topic
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged actions lost"
