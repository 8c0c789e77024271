"""The catalogue follows its compacted topic live; API keys are stored hashed and a revoked
key is refused on the very next lookup."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError

from shared import apikeys
from shared.catalog import CatalogView, publish_campaign
from shared.contracts.catalog import CampaignFile
from shared.db import create_pool
from shared.kafka import durable_producer
from shared.settings import InfraSettings
from tests.integration.shared.conftest import own_topic
from tests.throwaway import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
INFRA = InfraSettings()
CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy/campaigns/w4r-2025.json"


@pytest.fixture
async def cases_topic() -> AsyncIterator[str]:
    async with own_topic("cases", 1, {"cleanup.policy": "compact"}) as name:
        yield name


async def publish(topic: str, campaign: CampaignFile) -> int:
    producer = durable_producer(INFRA.kafka_bootstrap, "test")
    await producer.start()
    try:
        return await publish_campaign(producer, campaign, topic)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def following(
    topic: str, bootstrap: str = INFRA.kafka_bootstrap
) -> AsyncIterator[CatalogView]:
    view, stop = CatalogView(topic), asyncio.Event()
    task = asyncio.create_task(view.follow(bootstrap, stop))
    try:
        await asyncio.wait_for(view.loaded.wait(), 30)
        yield view
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def test_an_empty_catalogue_is_loaded_then_follows_cases_and_tombstones(
    cases_topic: str,
) -> None:
    async with following(cases_topic) as view:
        assert view.cases == {}
        campaign = CampaignFile.model_validate_json(CAMPAIGN.read_text())
        assert await publish(cases_topic, campaign) == len(campaign.cases) == 8

        async def known() -> set[str]:
            return set(view.cases)

        await wait_until(known, lambda ids: ids == {c.id for c in campaign.cases}, within=10)
        producer = durable_producer(INFRA.kafka_bootstrap, "test")
        await producer.start()
        try:
            await producer.send_and_wait(cases_topic, key=b"sonia-dahmani", value=None)
        finally:
            await producer.stop()
        await wait_until(known, lambda ids: "sonia-dahmani" not in ids, within=10)
        assert len(view.cases) == 7


async def test_following_an_unreachable_kafka_raises() -> None:
    view = CatalogView("plume.cases.v1")
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(view.follow(f"127.0.0.1:{free_port()}", asyncio.Event()), 30)
    assert not view.loaded.is_set()


async def test_catalogue_loads_history_then_sees_a_case_closed(cases_topic: str) -> None:
    data = json.loads(CAMPAIGN.read_text())
    await publish(cases_topic, CampaignFile.model_validate(data))
    view, stop = CatalogView(cases_topic), asyncio.Event()
    task = asyncio.create_task(view.follow(INFRA.kafka_bootstrap, stop))
    try:
        await asyncio.wait_for(view.loaded.wait(), 30)
        assert len(view.cases) == 8
        record = view.get("sonia-dahmani")
        assert record is not None and record.is_open

        data["cases"][6]["status"] = "closed"
        await publish(cases_topic, CampaignFile.model_validate(data))

        async def sonia_open() -> bool:
            found = view.get("sonia-dahmani")
            return found is not None and found.is_open

        await wait_until(sonia_open, lambda is_open: not is_open, within=10)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(INFRA.database_url)
    await apikeys.prepare(pool)
    yield pool
    await pool.close()


async def test_key_is_stored_hashed_and_refused_after_revocation(pool: asyncpg.Pool) -> None:
    name = f"partner-{uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        secret = await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_BATCH}, 600)
        stored = await conn.fetchval("SELECT key_hash FROM access.api_keys WHERE name=$1", name)
        assert secret.encode() not in stored and stored == apikeys.hash_key(secret)

        key = await apikeys.find_key(conn, secret)
        assert key is not None and key.allows(apikeys.Scope.ACTIONS_BATCH)
        assert not key.allows(apikeys.Scope.ACTIONS_TALLY)
        assert key.rate_limit == 600

        assert await apikeys.revoke_key(conn, name)
        assert await apikeys.find_key(conn, secret) is None
        assert not await apikeys.revoke_key(conn, name)
        with pytest.raises(apikeys.KeyNameTaken):
            await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_WRITE}, 0)
