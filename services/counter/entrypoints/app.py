"""`plume serve counter`: the read API over HTTP, with the consumer in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.counter import bootstrap
from services.counter.entrypoints.api import read_routes
from services.counter.entrypoints.case_stream import CASE_STREAM_ENDING
from services.counter.entrypoints.public_reads import open_to_any_origin
from services.counter.entrypoints.streams import STREAMS, StreamSlots
from services.counter.settings import CounterSettings
from shared.catalog import CatalogView
from shared.http import add_operational_routes
from shared.logs import configure_logging
from shared.serve import protect, serve


def create_app(settings: CounterSettings, catalog: CatalogView | None = None) -> FastAPI:
    holder: dict[str, bootstrap.Counter] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        counter = await bootstrap.start(settings, catalog)
        holder["counter"] = counter
        slots = StreamSlots(
            settings.stream_max_total,
            settings.stream_max_per_client,
            settings.stream_retry_after_s,
        )
        routes = read_routes(
            counter.snapshot, counter.catalog.cases.keys, settings.stream_interval_s, slots
        )
        app.include_router(routes)
        try:
            yield
        finally:
            await bootstrap.shutdown(counter)

    async def ready() -> bool:
        counter = holder.get("counter")
        return counter is not None and await counter.ready()

    def consumer_problem() -> str | None:
        counter = holder.get("counter")
        return counter.consumer.problem() if counter else None

    app = FastAPI(title="plume counter", lifespan=lifespan)
    add_operational_routes(app, ready, consumer_problem)
    # streams have their own cap (settings)
    protect(app, settings, exempt=STREAMS, exempt_endings=(CASE_STREAM_ENDING,))
    open_to_any_origin(app)
    return app


def run() -> None:
    settings = CounterSettings()
    configure_logging("counter", settings.log_level)
    # open /v1/totals/stream connections must not hold a shutdown forever
    serve(create_app(settings), settings, timeout_graceful_shutdown=3)
