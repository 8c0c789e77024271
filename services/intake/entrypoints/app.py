"""`plume serve intake`: build the settings, configure logging, run uvicorn."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from services.intake.bootstrap import create_app
from services.intake.settings import IntakeSettings
from shared.logs import configure_logging


def app_from_env() -> ASGIApp:
    """The app of one worker process, its settings read from the environment."""
    settings = IntakeSettings()  # the secret comes from PLUME_SUPPORTER_KEY_SECRET
    configure_logging("intake", settings.log_level)
    return create_app(settings)


def run() -> None:
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    options = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }
    if settings.workers > 1:
        # Each worker process builds its own app (and publisher, catalogue, rate limiter).
        uvicorn.run(
            "services.intake.entrypoints.app:app_from_env",
            factory=True,
            workers=settings.workers,
            **options,  # type: ignore[arg-type]
        )
    else:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
