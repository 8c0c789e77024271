"""Composition root: `build` makes the counter's parts and its HTTP app from the settings
(no socket opened); `running` starts them, every long-running task on the supervisor,
and closes them in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from services.counter.adapters.milestone_outbox import MilestoneOutbox
from services.counter.adapters.pg_anomalies import PostgresAnomalies
from services.counter.adapters.pg_counting import MIGRATIONS, PostgresCounting
from services.counter.adapters.snapshot import Snapshot
from services.counter.domain.waves import WaveDetector
from services.counter.entrypoints.anomalies import watch_waves
from services.counter.entrypoints.app import create_app
from services.counter.entrypoints.consumer import CountingHandler, Decoded
from services.counter.entrypoints.observe import Observer, publish_totals
from services.counter.service import campaign_of
from services.counter.settings import CounterSettings
from shared import apikeys
from shared.catalog import CatalogView
from shared.db import close_pool, is_reachable, migrate, unopened_pool
from shared.dead_letters import KafkaDeadLetters
from shared.kafka import durable_producer, manual_consumer
from shared.kafka_probe import KafkaProbe
from shared.listening_keys import ListeningKeyStore
from shared.logs import configure_logging
from shared.positioned_consumer import PositionedConsumer
from shared.positions import PositionStore
from shared.serve import relax_gc, serve
from shared.supervisor import Supervisor

STOP_GRACE_S, CLOSE_GRACE_S = 4.0, 2.0
MILESTONES_EVERY_S = 0.5  # leftovers of a failed publish; a reached milestone pokes at once


@dataclass
class Counter:
    settings: CounterSettings
    pool: asyncpg.Pool  # opened by `running`
    producer: AIOKafkaProducer
    reader: AIOKafkaConsumer  # the milestone outbox's view of the milestones topic
    probe: KafkaProbe
    catalog: CatalogView
    follows_catalog: bool  # False when a test gave a loaded catalogue
    positions: PositionStore
    consumer: PositionedConsumer[Decoded]
    snapshot: Snapshot
    outbox: MilestoneOutbox
    waves: WaveDetector
    flags: PostgresAnomalies
    observer: Observer
    supervisor: Supervisor
    keys: ListeningKeyStore  # for GET /v1/actions/{id}
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    app: FastAPI = field(init=False)

    async def reachable(self) -> bool:
        return await is_reachable(self.pool) and await self.probe.reachable()

    def problem(self) -> str | None:
        """What keeps the counter from serving fresh totals: a task down, the consumer
        stalled, or the read snapshot stale."""
        found = (
            self.supervisor.problem(),
            self.consumer.problem(),
            self.snapshot.problem(self.settings.snapshot_stale_after_s),
        )
        return "; ".join(reason for reason in found if reason) or None


def build(
    settings: CounterSettings,
    catalog: CatalogView | None = None,
    supervisor: Supervisor | None = None,
) -> Counter:
    """The counter's parts, wired. With `catalog` given (tests), it is used as is;
    otherwise the counter follows plume.cases.v1. Kafka's clients want the event loop
    that will run them: call this from inside it (uvicorn's app factory does)."""
    schema, group = settings.db_schema, settings.group_id
    pool = unopened_pool(settings.database_url, max_size=settings.db_pool_size)
    producer = durable_producer(settings.kafka_bootstrap, "plume-counter")
    reader = manual_consumer(settings.kafka_bootstrap, None, "plume-counter-outbox")
    follows_catalog = catalog is None
    catalog = catalog or CatalogView()
    handler = CountingHandler(partial(PostgresCounting.on, schema=schema), campaign_of(catalog))
    positions = PositionStore(schema)
    consumer = PositionedConsumer(
        manual_consumer(
            settings.kafka_bootstrap, group, "plume-counter", max_poll_records=settings.max_batch
        ),
        pool,
        positions,
        settings.actions_topic,
        handler,
        KafkaDeadLetters(producer, settings.dlq_topic, group, "counter"),
        max_records=settings.max_batch,
        stall_after_s=settings.stall_after_s,
    )
    snapshot = Snapshot(pool, schema)
    outbox = MilestoneOutbox(pool, schema, producer, reader, settings.milestones_topic)
    waves = WaveDetector(settings.wave_thresholds(), time.time())
    observer = Observer(consumer, handler, snapshot, outbox, waves)
    consumer.on_batch = observer.after_commit
    snapshot.listeners.append(publish_totals(producer, settings.totals_topic))
    counter = Counter(
        settings,
        pool,
        producer,
        reader,
        KafkaProbe(settings.kafka_bootstrap, "plume-counter-probe"),
        catalog,
        follows_catalog,
        positions,
        consumer,
        snapshot,
        outbox,
        waves,
        PostgresAnomalies(pool, schema),
        observer,
        supervisor or Supervisor("counter"),
        ListeningKeyStore(pool, settings.database_url, "plume-counter-keys"),
    )
    counter.app = create_app(
        settings,
        snapshot,
        catalog.cases.keys,
        (counter.reachable, counter.problem),
        lambda _: running(counter),
        counter.keys,
        counter.flags,
    )
    return counter


@asynccontextmanager
async def running(counter: Counter) -> AsyncIterator[None]:
    """Migrate, connect, load the catalogue and the snapshot, then run every task until
    the block ends. Closing takes about STOP_GRACE_S + CLOSE_GRACE_S at most, even with a
    statement that hangs: uncommitted work is replayed from the stored positions."""
    await counter.pool  # connects
    try:
        await _start(counter)
        yield
    finally:
        counter.stop.set()
        await counter.supervisor.stop(STOP_GRACE_S)
        await counter.consumer.stop()
        await counter.reader.stop()
        await counter.producer.stop()
        await counter.probe.close()
        await close_pool(counter.pool, CLOSE_GRACE_S)


async def _start(counter: Counter) -> None:
    settings, tasks, stop = counter.settings, counter.supervisor, counter.stop
    await migrate(counter.pool, settings.db_schema, MIGRATIONS)
    async with counter.pool.acquire() as conn:
        await counter.positions.create(conn)
    await apikeys.prepare(counter.pool)  # the look-up checks keys; intake may start later
    await counter.producer.start()
    await counter.reader.start()
    if counter.follows_catalog:
        tasks.start("catalogue", lambda: counter.catalog.follow(settings.kafka_bootstrap, stop))
        await counter.catalog.loaded.wait()  # milestones need the campaigns
    await counter.snapshot.refresh()
    await counter.consumer.start()
    tasks.start("consumer", lambda: counter.consumer.run(stop))
    tasks.start("snapshot", lambda: counter.snapshot.follow(settings.refresh_interval_s, stop))
    # Reads stay right without these two; a death shows in plume_task_restarts_total.
    tasks.start(
        "milestones", lambda: counter.outbox.follow(MILESTONES_EVERY_S, stop), readiness=False
    )
    tasks.start("lag", lambda: counter.observer.watch_lag(stop), readiness=False)
    # Without it keys are looked up in PostgreSQL (and a look-up stays right).
    tasks.start("keys", counter.keys.follow, readiness=False)
    tasks.start("anomalies", lambda: _watch_waves(counter), readiness=False)


def _watch_waves(counter: Counter) -> Coroutine[None, None, None]:
    settings = counter.settings
    return watch_waves(
        counter.waves,
        counter.flags,
        settings.anomaly_check_s,
        settings.anomaly_keep_s,
        counter.stop,
    )


def run() -> None:
    """`plume serve counter`."""
    settings = CounterSettings()
    configure_logging("counter", settings.log_level)

    def app() -> FastAPI:  # uvicorn calls it inside its event loop, as build wants
        counter = build(settings)
        relax_gc()  # the parts just built are long-lived too: out of the collector's sight
        return counter.app

    # open /v1/totals/stream connections must not hold a shutdown forever
    serve(app, settings, factory=True, timeout_graceful_shutdown=3)
