"""`plume serve intake`: build the settings, configure logging, run uvicorn."""

from __future__ import annotations

import uvicorn

from services.intake.bootstrap import create_app
from services.intake.settings import IntakeSettings
from shared.logs import configure_logging


def run() -> None:
    settings = IntakeSettings()  # the secret comes from the env
    configure_logging("intake", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        server_header=False,
    )
