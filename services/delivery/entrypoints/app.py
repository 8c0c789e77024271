"""The delivery service: consumes actions, cuts and renders dossiers, transmits them,
and serves the delivery team's API. `plume serve delivery` calls `run()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.delivery.adapters.pdf import FontSet
from services.delivery.adapters.rendering import Renderer
from services.delivery.adapters.senders import EmailSender, WebhookSender
from services.delivery.bootstrap import Delivery, build
from services.delivery.entrypoints import api
from services.delivery.entrypoints.workers import start_workers
from services.delivery.handlers import Sender, publish_events
from services.delivery.settings import DeliverySettings
from shared.db import close_pool, is_reachable
from shared.http import add_operational_routes
from shared.logs import configure_logging
from shared.loops import end_tasks
from shared.serve import protect, serve

log = logging.getLogger(__name__)
STOP_GRACE_S, CLOSE_GRACE_S = 4.0, 2.0


def create_app(settings: DeliverySettings) -> FastAPI:
    state: dict[str, Delivery] = {}

    def delivery() -> Delivery:
        return state["delivery"]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fonts = FontSet.find(settings.font_dir) if settings.render_pdf else None
        d = await build(settings)
        state["delivery"] = app.state.delivery = d
        webhook = WebhookSender(
            settings.webhook_secret.get_secret_value().encode(), settings.webhook_timeout_seconds
        )
        senders: dict[str, Sender] = {
            "email": EmailSender(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_sender,
                settings.smtp_timeout_seconds,
            ),
            "webhook": webhook,
        }
        renderer = Renderer(d.pool, settings.db_schema, settings.dossier_dir, fonts)
        await d.producer.start()
        await d.consumer.start()
        d.tasks.append(asyncio.create_task(d.catalog.follow(settings.kafka_bootstrap, d.stop)))
        d.tasks.append(asyncio.create_task(d.consumer.run(d.stop)))
        d.tasks.append(asyncio.create_task(d.lag.watch(d.consumer, d.stop)))
        start_workers(d, renderer, senders)
        for task in d.tasks:
            task.add_done_callback(_report_crash)
        try:
            yield
        finally:  # bounded, even with the consumer stuck retrying or a statement hung
            d.stop.set()
            await end_tasks(d.tasks, STOP_GRACE_S)
            with contextlib.suppress(Exception):  # last flush; the outbox keeps the rest
                last = publish_events(d.ledger, d.producer, settings.dossiers_topic)
                await asyncio.wait_for(last, CLOSE_GRACE_S)
            await d.consumer.stop()
            await d.producer.stop()
            await webhook.close()
            await close_pool(d.pool, CLOSE_GRACE_S)

    app = FastAPI(title="plume delivery", lifespan=lifespan)

    async def ready() -> bool:
        d = state.get("delivery")
        if d is None or not await is_reachable(d.pool):
            return False
        try:
            await asyncio.wait_for(d.producer.partitions_for(settings.actions_topic), 1.0)
        except Exception:
            return False
        return True

    def consumer_problem() -> str | None:
        d = state.get("delivery")
        return d.consumer.problem() if d else None

    add_operational_routes(app, ready, consumer_problem)
    api.install(app, delivery)
    protect(app, settings)
    return app


def _report_crash(task: asyncio.Task[None]) -> None:
    """A background loop that ends on its own is a fault: say so loudly (readiness fails)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background task died", exc_info=task.exception())


def run() -> None:
    settings = DeliverySettings()
    configure_logging("delivery", settings.log_level)
    # open connections (a console download) must not hold a shutdown forever
    serve(create_app(settings), settings, timeout_graceful_shutdown=3)
