"""Composition root: builds the intake's adapters from its settings and the FastAPI app
that uses them. Nothing connects until the app's lifespan starts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from services.intake.adapters.catalog import follow_forever
from services.intake.adapters.kafka_publisher import KafkaActionPublisher
from services.intake.adapters.keys import KeyStore, PostgresKeyStore
from services.intake.domain.ports import ActionPublisher
from services.intake.domain.rate_limit import RateLimiter
from services.intake.settings import IntakeSettings
from shared import apikeys
from shared.catalog import CatalogView
from shared.db import create_pool, is_reachable
from shared.http import RequestMetrics, add_operational_routes
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

    async def ready(self) -> bool:
        publisher_ok = self.publisher is not None and self.publisher.available()
        pool_ok = self.pool is not None and await is_reachable(self.pool)
        return publisher_ok and pool_ok and self.catalog.loaded.is_set()


@contextlib.asynccontextmanager
async def running(intake: Intake) -> AsyncIterator[None]:
    settings = intake.settings
    intake.pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    producer = durable_producer(settings.kafka_bootstrap, "plume-intake", settings.linger_ms)
    stop = asyncio.Event()
    follower: asyncio.Task[None] | None = None
    try:
        await apikeys.prepare(intake.pool)
        intake.keys = PostgresKeyStore(intake.pool)
        await producer.start()
        publisher = KafkaActionPublisher(
            producer, settings.actions_topic, settings.produce_timeout_s, settings.retry_after_s
        )
        await publisher.start()
        intake.publisher = publisher
        follower = asyncio.create_task(
            follow_forever(intake.catalog, settings.kafka_bootstrap, stop), name="catalogue"
        )
        yield
        await publisher.stop()
    finally:
        stop.set()
        if follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        await producer.stop()
        await intake.pool.close()


def create_app(settings: IntakeSettings) -> FastAPI:
    from services.intake.entrypoints import http, openapi

    intake = Intake(settings, CatalogView(settings.cases_topic))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(intake):
            yield

    app = FastAPI(
        title="plume intake",
        version="1",
        description="Takes in the actions of a letter-writing campaign and writes them to Kafka.",
        lifespan=lifespan,
    )
    app.state.intake = intake
    http.install(app)
    add_operational_routes(app, intake.ready)
    openapi.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-Id"],
            expose_headers=["Retry-After", "X-Request-Id"],
            max_age=600,
        )
    app.add_middleware(RequestMetrics, service="intake")
    return app
