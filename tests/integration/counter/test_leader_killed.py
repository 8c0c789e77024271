"""The core claim on a replicated cluster: every action Kafka acknowledged while the leader
of the partitions being written was killed (SIGKILL) is counted, once; and three counters
in one group, one of them SIGKILLed, count exactly. A throwaway three-node cluster,
plume's own producer (acks=all, idempotent), `plume serve counter` processes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.counter.settings import CounterSettings
from shared.contracts.actions import ActionEvent, ActionType
from shared.kafka import durable_producer, encode, ensure_topics
from shared.topic_health import topics_health
from tests.integration.counter.conftest import create_topics, drop_schema, isolated_settings
from tests.integration.counter.helpers import (
    CounterProcess,
    produce,
    stored_totals,
    wait_for_totals,
)
from tests.throwaway import ThrowawayKafkaCluster
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ACTIONS = 3_000
IN_FLIGHT = 200  # writes awaiting their acknowledgement at any time
WITHIN = 60.0  # seconds for the whole stream to be acknowledged, retries included
T = TypeVar("T")


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayKafkaCluster]:
    cluster = ThrowawayKafkaCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
async def settings(cluster: ThrowawayKafkaCluster) -> AsyncIterator[CounterSettings]:
    settings = isolated_settings(kafka_bootstrap=cluster.bootstrap, max_batch=200)
    # three replicas each: three nodes in bootstrap (the contract's topics: the counter reads
    # the catalogue of cases)
    await ensure_topics(cluster.bootstrap)
    await create_topics(settings, partitions=6)
    yield settings
    await drop_schema(settings.database_url, settings.db_schema)


async def ask_admin(bootstrap: str, request: Callable[[AIOKafkaAdminClient], Awaitable[T]]) -> T:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await request(admin)
    finally:
        await admin.close()


def letters(n: int) -> tuple[list[ActionEvent], dict[str, int]]:
    """n letters over three cases, with counts > 1, and the totals they must give."""
    events = [action(f"case-{i % 3}", ActionType.LETTER, count=1 + i % 4) for i in range(n)]
    expected = Counter[str]()
    for event in events:
        expected[event.case_id] += event.count
    return events, dict(expected)


async def group_members(bootstrap: str, group_id: str) -> int:
    (response,) = await ask_admin(bootstrap, lambda a: a.describe_consumer_groups([group_id]))
    (group,) = response.to_object()["groups"]
    return len(group["members"]) if group["state"] == "Stable" else 0


# First in this module: it needs all three nodes, and the next test kills one for good.
async def test_three_counters_in_one_group_count_exactly_when_one_is_killed(
    cluster: ThrowawayKafkaCluster, settings: CounterSettings, tmp_path: Path
) -> None:
    events, expected = letters(ACTIONS)
    counters = [CounterProcess(settings, tmp_path) for _ in range(3)]
    try:
        await asyncio.gather(*(c.start() for c in counters))
        await wait_until(
            lambda: group_members(cluster.bootstrap, settings.group_id), lambda n: n == 3
        )
        await produce(settings, events[: ACTIONS // 2])
        await wait_until(lambda: stored_totals(settings), lambda t: sum(t.values()) > 0)
        counters[0].kill()  # its partitions move to the two others, mid-stream
        await produce(settings, events[ACTIONS // 2 :])
        await wait_for_totals(settings, expected, within=60)
        assert len(await ledger(settings)) == ACTIONS
    finally:
        for counter in counters:
            counter.stop()


async def busiest_leader(bootstrap: str, topic: str) -> int:
    """The node that leads the most partitions of `topic`."""
    (described,) = await ask_admin(bootstrap, lambda a: a.describe_topics([topic]))
    leaders = Counter[int](p["leader"] for p in described["partitions"])
    return leaders.most_common(1)[0][0]


class Stream:
    """Sends actions with at most IN_FLIGHT unacknowledged; a refused write (an error or
    no answer) goes again with the same action_id, as the contract asks of clients."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, mid_stream: int) -> None:
        self.producer, self.topic = producer, topic
        self.acknowledged: list[ActionEvent] = []
        self.mid_stream, self.reached_mid_stream = mid_stream, asyncio.Event()
        self.refused = 0
        self.deadline = time.monotonic() + WITHIN
        self.slots = asyncio.Semaphore(IN_FLIGHT)

    async def send(self, events: list[ActionEvent]) -> None:
        await asyncio.gather(*(self._until_acknowledged(e) for e in events))

    async def _until_acknowledged(self, event: ActionEvent) -> None:
        async with self.slots:
            while True:
                try:
                    sent = await self.producer.send(
                        self.topic, encode(event), key=event.kafka_key()
                    )
                    await asyncio.wait_for(sent, timeout=10)
                    self.acknowledged.append(event)
                    if len(self.acknowledged) >= self.mid_stream:
                        self.reached_mid_stream.set()
                    return
                except (KafkaError, TimeoutError):
                    self.refused += 1
                    if time.monotonic() > self.deadline:
                        raise
                    # Retry once the cluster's metadata is fresh (the new leader known),
                    # not after a fixed pause.
                    await self.producer.client.force_metadata_update()


async def ledger(settings: CounterSettings) -> list[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(f'SELECT action_id FROM "{settings.db_schema}".ledger')
    finally:
        await conn.close()
    return [str(r["action_id"]) for r in rows]


async def test_actions_acknowledged_while_the_leader_is_killed_count_exactly_once(
    cluster: ThrowawayKafkaCluster, settings: CounterSettings, tmp_path: Path
) -> None:
    (health,) = await wait_until(  # every node learns of a new topic within moments
        lambda: topics_health(cluster.bootstrap, [settings.actions_topic]),
        lambda found: found[0].partitions > 0,
    )
    assert (health.replicas, health.in_sync) == (3, 3)
    events, expected = letters(ACTIONS)
    counter = await CounterProcess(settings, tmp_path).start()
    producer = durable_producer(cluster.bootstrap, "leader-kill-test")
    await producer.start()
    try:
        stream = Stream(producer, settings.actions_topic, mid_stream=ACTIONS // 4)
        first = asyncio.ensure_future(stream.send(events[: ACTIONS // 2]))
        await asyncio.wait_for(stream.reached_mid_stream.wait(), WITHIN)
        victim = await busiest_leader(cluster.bootstrap, settings.actions_topic)
        await asyncio.to_thread(cluster.node(victim).kill)  # mid-stream: writes in flight
        acknowledged_at_kill = len(stream.acknowledged)
        await stream.send(events[ACTIONS // 2 :])
        await first
    finally:
        await producer.stop()

    try:
        # every action was acknowledged in the end, some after the kill (retries included)
        assert len(stream.acknowledged) == ACTIONS > acknowledged_at_kill
        assert {e.action_id for e in stream.acknowledged} == {e.action_id for e in events}
        await wait_for_totals(settings, expected, within=60)
        counted = await ledger(settings)
        assert sorted(counted) == sorted(str(e.action_id) for e in stream.acknowledged)
        (after,) = await topics_health(cluster.bootstrap, [settings.actions_topic])
        assert after.in_sync == 2 and after.leaderless == 0  # the victim is out, not its data
    finally:
        counter.stop()
