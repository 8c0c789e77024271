"""Composition root of the intake: `Intake` builds every part from the settings (the
catalogue view, the routes' state, the ASGI app), and `running()` is the one context
manager that connects PostgreSQL and Kafka, runs the background work on the supervisor and
closes it all in order. Nothing connects until the app's lifespan enters it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI
from starlette.types import ASGIApp

from services.intake.adapters.confirmation_mail import SmtpConfirmationMailer
from services.intake.adapters.data_keys import CachedDataKeys
from services.intake.adapters.kafka_publisher import KafkaActionPublisher
from services.intake.adapters.pending_signatures import PgPendingSignatures
from services.intake.adapters.rate_limits import LocalRateLimits, RedisRateLimits
from services.intake.adapters.sealing_publisher import SealingPublisher
from services.intake.domain.ports import RateLimits
from services.intake.entrypoints.app import create_api, served_app
from services.intake.entrypoints.state import IntakeState
from services.intake.service import erase_unconfirmed, mail_confirmation_requests, send_heartbeats
from services.intake.settings import IntakeSettings
from shared import apikeys, data_keys
from shared.catalog import CatalogView
from shared.db import create_pool, is_reachable
from shared.kafka import durable_producer
from shared.kafka_probe import KafkaProbe
from shared.listening_keys import ListeningKeyStore
from shared.logs import configure_logging
from shared.loops import repeat
from shared.serve import relax_gc, serve, uvicorn_options
from shared.supervisor import Supervisor
from shared.workers import Plan, serve_workers

APP_FACTORY = "services.intake.bootstrap:app_from_env"
CLIENT_ID = "plume-intake"


class Intake:
    """The parts of one intake process; the supervisor runs its background tasks:
    `publisher` (the Kafka sender), `catalogue` (the case follower), `keys` (the API keys
    held in memory, following PostgreSQL's notifications), `heartbeat`."""

    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self.catalog = CatalogView(settings.cases_topic)
        self.state = IntakeState(settings, self.catalog, rate_limits(settings))
        self.supervisor = Supervisor(settings.service_name)
        self.kafka_probe = KafkaProbe(settings.kafka_bootstrap, CLIENT_ID)
        self.pool: asyncpg.Pool | None = None
        self.publisher: KafkaActionPublisher | None = None
        self.keys: ListeningKeyStore | None = None
        self.data_keys: CachedDataKeys | None = None
        self.api = create_api(self.state, self._lifespan, self.ready, self.problem)

    def asgi_app(self) -> ASGIApp:
        return served_app(self.api, self.state)

    async def ready(self) -> bool:
        """PostgreSQL and Kafka answer (the reasons of `problem()` are looked at first)."""
        pool_ok = self.pool is not None and await is_reachable(self.pool)
        return pool_ok and await self.kafka_probe.reachable()

    def problem(self) -> str | None:
        """Why actions cannot be taken now although the connections may work, or None."""
        reasons = [self.supervisor.problem()]
        if not self.catalog.loaded.is_set():
            reasons.append("the case catalogue is still loading")
        if self.keys is not None and not self.keys.loaded():
            reasons.append("the API keys are not loaded (keys are looked up in PostgreSQL)")
        publisher = self.publisher
        if publisher is not None and not publisher.available():
            refusing_s = max(1, round(publisher.refusing_for_s()))
            reasons.append(
                f"Kafka did not acknowledge recent writes: actions are answered 503 "
                f"for about {refusing_s} s more"
            )
        return "; ".join(reason for reason in reasons if reason) or None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        settings = self.settings
        master = settings.master_key()  # refuse to start without it, before connecting
        pool = self.pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
        producer = durable_producer(settings.kafka_bootstrap, CLIENT_ID, settings.linger_ms)
        try:
            await apikeys.prepare(pool)
            pending = PgPendingSignatures(pool, settings.db_schema)
            await pending.prepare()
            self.state.pending = pending
            await data_keys.prepare(pool)
            self.data_keys = self.state.data_keys = CachedDataKeys(
                data_keys.PgDataKeyStore(pool, master),
                settings.database_url,
                settings.data_key_cache_size,
            )
            keys = self.keys = self.state.keys = ListeningKeyStore(pool, settings.database_url)
            await producer.start()
            publisher = KafkaActionPublisher(
                producer, settings.actions_topic, settings.produce_timeout_s, settings.retry_after_s
            )
            await publisher.start()
            self.publisher = publisher
            self.state.publisher = SealingPublisher(self.data_keys, publisher)
            self._start_tasks(publisher, keys)
            self._start_confirmations(pending)
            yield
        finally:
            await self.supervisor.stop()
            await producer.stop()
            await self.kafka_probe.close()
            await pool.close()
            await self.state.limits.close()
            self.state.decoder.shutdown(wait=False, cancel_futures=True)

    def _start_tasks(self, publisher: KafkaActionPublisher, keys: ListeningKeyStore) -> None:
        settings, supervisor = self.settings, self.supervisor
        supervisor.start("publisher", publisher.run)
        supervisor.start("keys", keys.follow)
        if self.data_keys is not None:
            # Without it, every look-up goes to PostgreSQL: slower, not wrong.
            supervisor.start("data-keys", self.data_keys.follow, readiness=False)
        # Runs until cancelled (the supervisor stops it); after a restart the view reads
        # the compacted topic from its start again.
        never = asyncio.Event()
        supervisor.start("catalogue", lambda: self.catalog.follow(settings.kafka_bootstrap, never))
        if settings.heartbeat_interval_s:
            # Not a readiness matter: actions are taken without it, and the missing
            # heartbeat is itself what operators are alerted on.
            every_s = settings.heartbeat_interval_s
            supervisor.start(
                "heartbeat", lambda: send_heartbeats(publisher, every_s), readiness=False
            )

    def _start_confirmations(self, pending: PgPendingSignatures) -> None:
        """Mail the confirmation requests, erase the signatures never confirmed and those
        of erased supporters."""
        settings, never = self.settings, asyncio.Event()
        mailer = SmtpConfirmationMailer(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_timeout_s
        )
        base = settings.public_url.rstrip("/")

        def case_name(case_id: str) -> str:
            record = self.catalog.get(case_id)
            return record.case.name if record else case_id

        def mail() -> Awaitable[int]:
            return mail_confirmation_requests(
                pending, mailer, lambda token: f"{base}/v1/confirmations/{token}", case_name
            )

        def erase() -> Awaitable[int]:
            return erase_unconfirmed(pending, datetime.now(UTC))

        every = settings.confirm_check_s
        steps = (
            ("confirmation-mail", mail),
            ("unconfirmed-expiry", erase),
            ("erasures", pending.erase_supporters),
        )
        for name, step in steps:
            work = functools.partial(repeat, name, step, every, never)
            self.supervisor.start(name, work, readiness=False)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        async with self.running():
            yield


def rate_limits(settings: IntakeSettings) -> RateLimits:
    """Counted in Redis for all processes when configured; else in this process alone.
    Nothing connects before the first request."""
    if not settings.redis_url:
        return LocalRateLimits(settings.rate_window_s)
    return RedisRateLimits(settings.redis_url, settings.rate_window_s, settings.redis_timeout_s)


def create_app(settings: IntakeSettings) -> ASGIApp:
    return Intake(settings).asgi_app()


def openapi_document(settings: IntakeSettings) -> dict[str, Any]:
    return Intake(settings).api.openapi()


def app_from_env() -> ASGIApp:
    """The app of one worker process, its settings read from the environment."""
    settings = IntakeSettings()  # the secret comes from PLUME_SUPPORTER_KEY_SECRET
    configure_logging("intake", settings.log_level)
    app = create_app(settings)
    relax_gc()
    return app


def run() -> None:
    """`plume serve intake`: one process, or `workers` of them on one port."""
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    if settings.workers > 1:
        # Each worker process builds its own app (publisher, catalogue); the rate limits are
        # shared through Redis when configured.
        plan = Plan(
            APP_FACTORY,
            settings.host,
            settings.port,
            settings.workers,
            uvicorn_options(settings),
            service="intake",
            log_level=settings.log_level,
        )
        serve_workers(plan)
    else:
        serve(create_app(settings), settings)
