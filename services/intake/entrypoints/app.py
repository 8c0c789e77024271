"""The intake's ASGI app: the FastAPI app (routes, documents, operational routes) and what
uvicorn serves around it. Given its state, readiness and life cycle by bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp

from services.intake import metrics
from services.intake.entrypoints import confirmations, http, openapi, refusals, widget
from services.intake.entrypoints.fast_path import FastPath
from services.intake.entrypoints.origins import AllowedOrigins, LiveCORS
from services.intake.entrypoints.state import IntakeState
from shared.admission import Admission
from shared.http import ReadinessCheck, ReadinessProblem, add_operational_routes
from shared.request_metrics import RequestMetrics

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_api(
    state: IntakeState, lifespan: Lifespan, ready: ReadinessCheck, problem_of: ReadinessProblem
) -> FastAPI:
    """The FastAPI app: every route, the documents, `/readyz` from `ready`/`problem_of`."""
    api = FastAPIOffline(
        title="plume intake",
        version="1",
        description="Takes in the actions of a letter-writing campaign and writes them to Kafka.",
        lifespan=lifespan,
    )
    api.state.intake = state
    http.install(api)
    confirmations.install(api)
    widget.install(api, state.settings.counter_url)
    add_operational_routes(api, ready, problem_of)
    openapi.install(api)
    return api


def served_app(api: FastAPI, state: IntakeState) -> ASGIApp:
    """What uvicorn serves: request metrics, the in-flight cap and CORS around the API,
    with the action routes answered in one layer in front of them (see FastPath)."""
    settings = state.settings
    cors = LiveCORS(api, AllowedOrigins(settings.cors_origins, state.catalog))
    admission = Admission(
        cors,
        settings.max_in_flight,
        settings.keyed_share,
        on_shed=metrics.shed,
        # every 503 names the actions' ids (contract v2)
        name_shed=refusals.naming_the_shed(state.naming_room),
    )
    app = FastPath(api, http.HOT_ROUTES, admission, cors)
    return RequestMetrics(app, service=settings.service_name, api=api)
