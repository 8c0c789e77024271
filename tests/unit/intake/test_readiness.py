"""/readyz of intake names why actions cannot be taken: a background task down (the
supervisor's reason), the catalogue still loading, or the publisher refusing writes after
Kafka failed to acknowledge (issue 10: intake answered 503 while /readyz said ready)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import asyncpg
import httpx
import pytest

from services.intake.adapters.kafka_publisher import KafkaActionPublisher
from services.intake.bootstrap import Intake
from services.intake.domain.actions import heartbeat
from services.intake.domain.ports import PublishUnavailable
from services.intake.settings import IntakeSettings
from shared.listening_keys import ListeningKeyStore
from tests.unit.intake.fakes import FakeProducer
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


async def readyz(intake: Intake) -> httpx.Response:
    # The app without its lifespan: nothing connects; /readyz looks at problem() first.
    transport = httpx.ASGITransport(app=intake.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        return await client.get("/readyz")


async def test_readyz_names_the_loading_catalogue_then_the_refused_writes() -> None:
    intake = Intake(IntakeSettings(supporter_key_secret="s" * 16, retry_after_s=30))
    loading = await readyz(intake)
    assert loading.status_code == 503
    assert loading.json()["detail"] == "the case catalogue is still loading"

    intake.catalog.loaded.set()
    producer = FakeProducer()
    producer.auto_ack = False  # Kafka takes the write and never acknowledges it
    publisher = KafkaActionPublisher(producer, "actions", timeout_s=0.05, retry_after_s=30)
    await publisher.start()
    sender = asyncio.create_task(publisher.run())
    try:
        intake.publisher = publisher
        assert intake.problem() is None
        with pytest.raises(PublishUnavailable):
            await publisher.publish([heartbeat(datetime.now(UTC))])
        refusing = await readyz(intake)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    assert refusing.status_code == 503
    detail = refusing.json()["detail"]
    assert detail.startswith("Kafka did not acknowledge recent writes"), detail
    assert "about 30 s" in detail


async def test_a_task_down_is_named_beside_the_other_reasons() -> None:
    intake = Intake(IntakeSettings(supporter_key_secret="s" * 16))
    never_ready = asyncio.Event()

    async def follower() -> None:
        await never_ready.wait()

    intake.supervisor.start("catalogue", follower)

    async def running() -> asyncio.Task[None] | None:
        return intake.supervisor.task("catalogue")

    async def problem() -> str | None:
        return intake.problem()

    try:
        current = await wait_until(running, within=5, every=0.01)
        assert current is not None
        current.cancel()
        reason = await wait_until(problem, lambda p: p is not None and "down" in p, within=5)
    finally:
        await intake.supervisor.stop(1.0)
    assert reason is not None
    assert reason.startswith("catalogue is down (it was cancelled), restarting"), reason
    assert reason.endswith("; the case catalogue is still loading"), reason


async def test_readyz_names_the_api_keys_until_they_are_loaded() -> None:
    intake = Intake(IntakeSettings(supporter_key_secret="s" * 16))
    intake.catalog.loaded.set()
    # Never followed: nothing connects, and the store holds no key yet.
    intake.keys = ListeningKeyStore(cast(asyncpg.Pool, None), "postgresql://unused")
    answer = await readyz(intake)
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("the API keys are not loaded")
