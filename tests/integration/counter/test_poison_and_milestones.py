"""Poison records go to the dead-letter topic and the partition keeps flowing; milestones
are announced once, through replays, restarts and a crash between publish and commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import TopicPartition

from services.counter import bootstrap
from services.counter.domain.ports import Invalidation
from services.counter.entrypoints.corrections import run_invalidate
from services.counter.settings import CounterSettings
from shared.catalog import CatalogView
from shared.contracts.catalog import CampaignFile, case_records
from shared.contracts.dlq import DeadLetter
from shared.contracts.totals import MilestoneReached
from shared.kafka import decode, encode, manual_consumer
from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import CounterProcess, produce, wait_for_totals
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def settings() -> AsyncIterator[CounterSettings]:
    settings = isolated_settings()
    await create_topics(settings, partitions=1)  # poison and good records share a partition
    yield settings
    await clean_up(settings)


async def read_topic(settings: CounterSettings, topic: str) -> list[tuple[bytes | None, bytes]]:
    consumer = manual_consumer(settings.kafka_bootstrap, None, "counter-tests")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        records: list[tuple[bytes | None, bytes]] = []
        while await consumer.position(tp) < end:
            for batch in (await consumer.getmany(tp, timeout_ms=200)).values():
                records += [(r.key, r.value) for r in batch if r.value is not None]
        return records
    finally:
        await consumer.stop()


async def test_poison_goes_to_the_dead_letter_topic_and_the_partition_flows(
    settings: CounterSettings, tmp_path: Path
) -> None:
    schema_invalid = encode(action()).replace(b'"count":1', b'"count":0')
    await produce(settings, [action(count=2)], raw=[b"{not json", schema_invalid])
    await produce(settings, [action(count=5)])  # after the poison, same partition
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        await wait_for_totals(settings, {"case-a": 7})
        letters = await wait_until(
            lambda: read_topic(settings, settings.dlq_topic), lambda r: len(r) >= 2
        )
        dead = [decode(DeadLetter, value) for _, value in letters]
        assert [key for key, _ in letters] == [b"poison", b"poison"]
        assert [(d.topic, d.partition, d.offset) for d in dead] == [
            (settings.actions_topic, 0, 1),
            (settings.actions_topic, 0, 2),
        ]
        assert "json" in dead[0].error.lower()
        assert "count" in dead[1].error
        assert await counter.metric("plume_counter_dead_letters_total") == 2
    finally:
        counter.stop()


def catalog_with_milestones(case_id: str, milestones: list[int]) -> CatalogView:
    campaign = CampaignFile.model_validate(
        {
            "id": "test-campaign",
            "name": "Test",
            "milestones": milestones,
            "cases": [
                {
                    "id": case_id,
                    "name": "A case",
                    "country": "TN",
                    "targets": [{"id": "t", "name": "T", "country": "TN", "language": "fr"}],
                }
            ],
        }
    )
    catalog = CatalogView()
    for record in case_records(campaign):
        catalog.apply(record.case.id.encode(), encode(record))
    return catalog


async def announced(settings: CounterSettings) -> list[MilestoneReached]:
    return [
        decode(MilestoneReached, v)
        for _, v in await read_topic(settings, settings.milestones_topic)
    ]


async def replayed(counter: bootstrap.Counter, records: int) -> bool:
    return sum(counter.consumer.committed.values()) >= records


async def unpublished(settings: CounterSettings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        table = f'"{settings.db_schema}".milestones_reached'
        count: int = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE published_at IS NULL")
        return count
    finally:
        await conn.close()


async def test_milestones_are_announced_once_across_restarts_replays_and_crashes(
    settings: CounterSettings,
) -> None:
    catalog = catalog_with_milestones("case-a", [10, 100, 1000])
    counter = await bootstrap.start(settings, catalog)
    try:
        await produce(settings, [action(count=1) for _ in range(9)])
        await produce(settings, [action(count=50, source="partner-x"), action(count=60)])
        events = await wait_until(lambda: announced(settings), lambda e: len(e) >= 2)
        assert [(e.case_id, e.milestone) for e in events] == [("case-a", 10), ("case-a", 100)]
    finally:
        await bootstrap.shutdown(counter)

    conn = await asyncpg.connect(settings.database_url)
    try:  # replay everything, and pretend the last publish crashed before it was marked
        await conn.execute(f'DELETE FROM "{settings.db_schema}".consumer_positions')
        await conn.execute(
            f'UPDATE "{settings.db_schema}".milestones_reached SET published_at = NULL'
        )
    finally:
        await conn.close()
    counter = await bootstrap.start(settings, catalog)
    try:
        await wait_until(lambda: replayed(counter, 11))
        await wait_until(lambda: unpublished(settings), lambda n: n == 0)
        assert len(await announced(settings)) == 2, "the outbox skipped what Kafka had"

        await run_invalidate(settings, Invalidation(source="partner-x"))  # 119 -> 69
        await produce(settings, [action(count=40)])  # 109: 100 is reached again
        events = await wait_until(lambda: announced(settings), lambda e: len(e) >= 3)
        assert [e.milestone for e in events] == [10, 100, 100]
        assert events[2].event_id != events[1].event_id
    finally:
        await bootstrap.shutdown(counter)
