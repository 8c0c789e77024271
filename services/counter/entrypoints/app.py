"""The counter's HTTP API: the read routes, the streams and the operational routes, built
from the parts bootstrap made; its lifespan (given) runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.counter.adapters.pg_anomalies import PostgresAnomalies
from services.counter.adapters.snapshot import Snapshot
from services.counter.entrypoints.anomalies import anomaly_routes
from services.counter.entrypoints.api import read_routes
from services.counter.entrypoints.case_stream import CASE_STREAM_ENDING
from services.counter.entrypoints.lookups import lookup_routes
from services.counter.entrypoints.public_reads import open_to_any_origin
from services.counter.entrypoints.streams import STREAMS, StreamSlots
from services.counter.settings import CounterSettings
from shared.http import ReadinessCheck, ReadinessProblem, add_operational_routes
from shared.listening_keys import ListeningKeyStore
from shared.serve import protect

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    settings: CounterSettings,
    snapshot: Snapshot,
    known_cases: Callable[[], Iterable[str]],
    readiness: tuple[ReadinessCheck, ReadinessProblem],
    lifespan: Lifespan,
    keys: ListeningKeyStore,
    flags: PostgresAnomalies,
) -> FastAPI:
    """`readiness`: whether Kafka and PostgreSQL answer, and what else is wrong (or None)."""
    app = FastAPIOffline(title="plume counter", lifespan=lifespan)
    slots = StreamSlots(
        settings.stream_max_total, settings.stream_max_per_client, settings.stream_retry_after_s
    )
    app.include_router(read_routes(snapshot, known_cases, settings.stream_interval_s, slots))
    app.include_router(lookup_routes(keys.pool, settings.db_schema, keys))
    app.include_router(anomaly_routes(flags, settings.anomaly_keep_s))
    add_operational_routes(app, *readiness)
    # streams have their own cap (settings)
    protect(app, settings, exempt=STREAMS, exempt_endings=(CASE_STREAM_ENDING,))
    open_to_any_origin(app)
    return app
