"""Composition root: builds the counter's parts from its settings and runs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.counter.adapters.milestone_outbox import MilestoneOutbox
from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.consumer import CountingHandler, Decoded
from services.counter.entrypoints.observe import Observer, publish_totals
from services.counter.service import CampaignOf
from services.counter.settings import CounterSettings
from shared.catalog import CatalogView
from shared.db import close_pool, create_pool, is_reachable, migrate
from shared.dead_letters import KafkaDeadLetters
from shared.kafka import durable_producer, manual_consumer
from shared.loops import end_tasks
from shared.positioned_consumer import PositionedConsumer
from shared.positions import PositionStore

log = logging.getLogger(__name__)
MIGRATIONS = "services.counter.adapters.migrations"
STOP_GRACE_S, CLOSE_GRACE_S = 4.0, 2.0


@dataclass
class Counter:
    settings: CounterSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    reader: AIOKafkaConsumer
    catalog: CatalogView
    consumer: PositionedConsumer[Decoded]
    snapshot: Snapshot
    outbox: MilestoneOutbox
    observer: Observer
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    failed: bool = False

    async def ready(self) -> bool:
        if self.failed or not await is_reachable(self.pool):
            return False
        brokers = self.producer.client.cluster.brokers()
        try:
            return any(
                [await asyncio.wait_for(self.producer.client.ready(b.nodeId), 1.0) for b in brokers]
            )
        except (OSError, TimeoutError, KafkaError):
            return False

    def spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                self.failed = True  # /readyz turns 503; the supervisor sees it
                log.exception("counter task died", extra={"task": name})

        self.tasks.append(asyncio.create_task(guarded(), name=name))


def campaign_of(catalog: CatalogView) -> CampaignOf:
    def lookup(case_id: str) -> tuple[str, list[int]] | None:
        record = catalog.get(case_id)
        return (record.campaign_id, record.milestones) if record else None

    return lookup


async def start(settings: CounterSettings, catalog: CatalogView | None = None) -> Counter:
    """Migrate, connect, and start consuming. With `catalog` given (tests), it is used as
    is; otherwise the counter follows plume.cases.v1 and waits until it is loaded."""
    pool = await create_pool(settings.database_url, max_size=settings.pool_size)
    await migrate(pool, settings.db_schema, MIGRATIONS)
    positions = PositionStore(settings.db_schema)
    async with pool.acquire() as conn:
        await positions.create(conn)
    producer = durable_producer(settings.kafka_bootstrap, "plume-counter")
    await producer.start()
    reader = manual_consumer(settings.kafka_bootstrap, None, "plume-counter-outbox")
    await reader.start()
    stop = asyncio.Event()
    follow_catalog = catalog is None
    catalog = catalog or CatalogView()
    catalog_task = None
    if follow_catalog:
        catalog_task = asyncio.create_task(catalog.follow(settings.kafka_bootstrap, stop))
        await _loaded(catalog, catalog_task)
    handler = CountingHandler(settings.db_schema, campaign_of(catalog))
    kafka_consumer = manual_consumer(
        settings.kafka_bootstrap,
        settings.group_id,
        "plume-counter",
        max_poll_records=settings.max_batch,
    )
    consumer = PositionedConsumer(
        kafka_consumer,
        pool,
        positions,
        settings.actions_topic,
        handler,
        KafkaDeadLetters(producer, settings.dlq_topic, settings.group_id, "counter"),
        max_records=settings.max_batch,
        stall_after_s=settings.stall_after_s,
    )
    snapshot = Snapshot(pool, settings.db_schema)
    outbox = MilestoneOutbox(pool, settings.db_schema, producer, reader, settings.milestones_topic)
    observer = Observer(consumer, handler, snapshot, outbox)
    consumer.on_batch = observer.after_commit
    snapshot.listeners.append(publish_totals(producer, settings.totals_topic))
    counter = Counter(
        settings, pool, producer, reader, catalog, consumer, snapshot, outbox, observer, stop
    )
    if catalog_task:
        counter.tasks.append(catalog_task)
    await snapshot.refresh()
    await consumer.start()
    counter.spawn("consume", consumer.run(stop))
    counter.spawn("snapshot", snapshot.follow(settings.refresh_interval_s, stop))
    counter.spawn("milestones", outbox.follow(0.5, stop))
    counter.spawn("lag", observer.watch_lag(stop))
    return counter


async def _loaded(catalog: CatalogView, follower: asyncio.Task[None]) -> None:
    waiter = asyncio.create_task(catalog.loaded.wait())
    await asyncio.wait({waiter, follower}, return_when=asyncio.FIRST_COMPLETED)
    if not catalog.loaded.is_set():
        waiter.cancel()
        follower.result()  # raises what stopped the catalogue
        raise RuntimeError("catalogue follower ended before loading")


async def shutdown(counter: Counter) -> None:
    """Within about STOP_GRACE_S + CLOSE_GRACE_S, even with the consumer stuck retrying
    or in a statement that hangs: what is not finished by then is cancelled (uncommitted
    work is replayed from the stored positions at the next start)."""
    counter.stop.set()
    counter.snapshot.poke.set()
    counter.outbox.poke.set()
    await end_tasks(counter.tasks, STOP_GRACE_S)
    await counter.consumer.stop()
    await counter.reader.stop()
    await counter.producer.stop()
    await close_pool(counter.pool, CLOSE_GRACE_S)
