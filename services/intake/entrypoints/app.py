"""`plume serve intake`: build the settings, configure logging, run uvicorn."""

from __future__ import annotations

from starlette.types import ASGIApp

from services.intake.bootstrap import create_app
from services.intake.settings import IntakeSettings
from shared.logs import configure_logging
from shared.serve import relax_gc, serve, uvicorn_options
from shared.workers import serve_workers

APP_FACTORY = "services.intake.entrypoints.app:app_from_env"


def app_from_env() -> ASGIApp:
    """The app of one worker process, its settings read from the environment."""
    settings = IntakeSettings()  # the secret comes from PLUME_SUPPORTER_KEY_SECRET
    configure_logging("intake", settings.log_level)
    app = create_app(settings)
    relax_gc()
    return app


def run() -> None:
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    if settings.workers > 1:
        # Each worker process builds its own app (and publisher, catalogue, rate limiter).
        serve_workers(
            APP_FACTORY, settings.host, settings.port, settings.workers, uvicorn_options(settings)
        )
    else:
        serve(create_app(settings), settings)
