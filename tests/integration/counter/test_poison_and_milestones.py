"""Poison records go to the dead-letter topic and the partition keeps flowing; milestones
are announced once, through replays, restarts and a crash between publish and commit."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition

from services.counter import bootstrap
from services.counter.domain.ports import Invalidation
from services.counter.entrypoints.corrections import run_invalidate
from services.counter.settings import CounterSettings
from shared.catalog import CatalogView
from shared.contracts.actions import ActionEvent
from shared.contracts.catalog import CampaignFile, case_records
from shared.contracts.dlq import DeadLetter
from shared.contracts.totals import MilestoneReached
from shared.kafka import decode, encode, manual_consumer
from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import (
    CounterProcess,
    produce,
    stored_totals,
    wait_for_totals,
)
from tests.readback import read_dead_letters
from tests.unit.counter.builders import action, signature
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


async def test_records_the_store_refuses_are_dead_lettered_between_good_ones(
    settings: CounterSettings, tmp_path: Path
) -> None:
    """Values that decode but that the counter cannot store (issue 9): each is set aside
    with its error, every good one around it is counted, and the partition flows."""
    year_one = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # year 0 in UTC
    refused = [
        action(count=100, accepted_at=year_one),  # no UTC hour to count it under
        action("case-\x00", count=100),  # jsonb cannot hold a NUL byte
        signature("case-a", "key-\x00", count=100),
        action(os.urandom(6_000).hex(), count=100),  # too large for a unique index
    ]
    good = [action(count=n) for n in (1, 2, 4, 8, 16)]
    interleaved = [good[0], refused[0], good[1], refused[1], refused[2], good[2]]
    await produce(settings, [*interleaved, good[3], refused[3], good[4]])
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        await wait_for_totals(settings, {"case-a": 31})
        letters = await wait_until(
            lambda: read_dead_letters(settings.kafka_bootstrap, settings.dlq_topic),
            lambda found: len(found) >= len(refused),
        )
        assert sorted(d.offset for d in letters) == [1, 3, 4, 7]
        by_offset = {d.offset: d.error for d in letters}
        assert by_offset[1].startswith("ValueError: year 0 is out of range")
        assert by_offset[3].startswith("UntranslatableCharacterError [22P05]")
        assert by_offset[4].startswith("UntranslatableCharacterError [22P05]")
        assert by_offset[7].startswith("ProgramLimitExceededError [54000]")
        originals = [decode(ActionEvent, base64.b64decode(d.value_base64 or "")) for d in letters]
        assert {e.action_id for e in originals} == {e.action_id for e in refused}
        assert await counter.metric("plume_counter_dead_letters_total") == len(refused)
        assert await stored_totals(settings) == {"case-a": 31}
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{counter.url}/readyz")).status_code == 200
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
    async with bootstrap.running(bootstrap.build(settings, catalog)):
        await produce(settings, [action(count=1) for _ in range(9)])
        await produce(settings, [action(count=50, source="partner-x"), action(count=60)])
        events = await wait_until(lambda: announced(settings), lambda e: len(e) >= 2)
        assert [(e.case_id, e.milestone) for e in events] == [("case-a", 10), ("case-a", 100)]

    conn = await asyncpg.connect(settings.database_url)
    try:  # replay everything, and pretend the last publish crashed before it was marked
        await conn.execute(f'DELETE FROM "{settings.db_schema}".consumer_positions')
        await conn.execute(
            f'UPDATE "{settings.db_schema}".milestones_reached SET published_at = NULL'
        )
    finally:
        await conn.close()
    counter = bootstrap.build(settings, catalog)
    async with bootstrap.running(counter):
        await wait_until(lambda: replayed(counter, 11))
        await wait_until(lambda: unpublished(settings), lambda n: n == 0)
        assert len(await announced(settings)) == 2, "the outbox skipped what Kafka had"

        await run_invalidate(settings, Invalidation(source="partner-x"))  # 119 -> 69
        await produce(settings, [action(count=40)])  # 109: 100 is reached again
        events = await wait_until(lambda: announced(settings), lambda e: len(e) >= 3)
        assert [e.milestone for e in events] == [10, 100, 100]
        assert events[2].event_id != events[1].event_id
