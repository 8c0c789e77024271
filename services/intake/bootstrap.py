"""Composition root: builds the intake's adapters from its settings and the ASGI app that
uses them. Nothing connects until the app's lifespan starts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from services.intake import metrics
from services.intake.entrypoints import http, openapi, widget
from services.intake.entrypoints.fast_path import FastPath
from services.intake.entrypoints.origins import AllowedOrigins, LiveCORS
from services.intake.runtime import Intake, running
from services.intake.settings import IntakeSettings
from shared.admission import Admission
from shared.catalog import CatalogView
from shared.http import add_operational_routes
from shared.request_metrics import RequestMetrics


def create_api(intake: Intake) -> FastAPI:
    """The FastAPI app: every route, the documents, the life cycle."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(intake):
            yield

    api = FastAPI(
        title="plume intake",
        version="1",
        description="Takes in the actions of a letter-writing campaign and writes them to Kafka.",
        lifespan=lifespan,
    )
    api.state.intake = intake
    http.install(api)
    widget.install(api, intake.settings.counter_url)
    add_operational_routes(api, intake.ready)
    openapi.install(api)
    return api


def create_app(settings: IntakeSettings) -> ASGIApp:
    """What uvicorn serves: request metrics, the in-flight cap and CORS around the API,
    with the action routes dispatched straight to their handlers (see FastPath)."""
    api = create_api(Intake(settings, CatalogView(settings.cases_topic)))
    app: ASGIApp = FastPath(api, http.HOT_ROUTES)
    app = LiveCORS(app, AllowedOrigins(settings.cors_origins, api.state.intake.catalog))
    app = Admission(app, settings.max_in_flight, settings.keyed_share, on_shed=metrics.shed)
    return RequestMetrics(app, service=settings.service_name, api=api)


def openapi_document(settings: IntakeSettings) -> dict[str, Any]:
    return create_api(Intake(settings, CatalogView(settings.cases_topic))).openapi()
