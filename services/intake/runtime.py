"""The intake's runtime state (what the HTTP handlers need) and its life cycle: connect
PostgreSQL and Kafka, follow the catalogue, and close it all in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import asyncpg

from services.intake import metrics
from services.intake.adapters.catalog import follow_forever
from services.intake.adapters.kafka_publisher import KafkaActionPublisher
from services.intake.adapters.keys import KeyStore, PostgresKeyStore
from services.intake.domain.key_guesses import KeyGuessGuard
from services.intake.domain.ports import ActionPublisher
from services.intake.domain.rate_limit import RateLimiter
from services.intake.entrypoints.budget import ByteBudget
from services.intake.handlers import send_heartbeats
from services.intake.settings import IntakeSettings
from shared import apikeys
from shared.catalog import CatalogView
from shared.db import create_pool, is_reachable
from shared.kafka import durable_producer


@dataclass
class Intake:
    """What the HTTP handlers need, set up by the lifespan."""

    settings: IntakeSettings
    catalog: CatalogView
    limiter: RateLimiter = field(default_factory=RateLimiter)
    publisher: ActionPublisher | None = None
    keys: KeyStore | None = None
    pool: asyncpg.Pool | None = None
    secret: bytes = field(init=False, repr=False)  # the supporter-key secret, as bytes
    key_guesses: KeyGuessGuard = field(init=False, repr=False)

    batch_budget: ByteBudget = field(init=False, repr=False)
    # Batches are decoded here, off the event loop, which keeps serving (and reading Kafka's
    # acknowledgements) meanwhile; one thread, as decoding holds the GIL anyway.
    decoder: ThreadPoolExecutor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.secret = self.settings.supporter_key_secret.get_secret_value().encode()
        self.key_guesses = KeyGuessGuard(self.settings.key_guess_limit)
        settings = self.settings
        self.batch_budget = ByteBudget(
            settings.batch_budget_bytes,
            settings.batch_budget_per_key_bytes,
            metrics.batch_budget_changed,
        )
        self.decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-decoder")

    async def ready(self) -> bool:
        publisher = self.publisher
        publisher_ok = (
            publisher is not None and publisher.available() and await publisher.reachable()
        )
        pool_ok = self.pool is not None and await is_reachable(self.pool)
        return publisher_ok and pool_ok and self.catalog.loaded.is_set()


@contextlib.asynccontextmanager
async def running(intake: Intake) -> AsyncIterator[None]:
    settings = intake.settings
    intake.pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    producer = durable_producer(settings.kafka_bootstrap, "plume-intake", settings.linger_ms)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        await apikeys.prepare(intake.pool)
        intake.keys = PostgresKeyStore(intake.pool)
        await producer.start()
        publisher = KafkaActionPublisher(
            producer, settings.actions_topic, settings.produce_timeout_s, settings.retry_after_s
        )
        await publisher.start()
        intake.publisher = publisher
        tasks.append(
            asyncio.create_task(
                follow_forever(intake.catalog, settings.kafka_bootstrap, stop), name="catalogue"
            )
        )
        if settings.heartbeat_interval_s:
            beats = send_heartbeats(publisher, settings.heartbeat_interval_s, stop)
            tasks.append(asyncio.create_task(beats, name="heartbeat"))
        yield
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if intake.publisher is not None:
            await publisher.stop()
        await producer.stop()
        await intake.pool.close()
        intake.decoder.shutdown(wait=False, cancel_futures=True)
