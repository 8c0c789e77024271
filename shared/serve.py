"""Run a service's ASGI app the one way all three do: uvloop, httptools, our JSON logging
(uvicorn's own log config off), no access log (request metrics cover it)."""

from __future__ import annotations

from typing import Any

import uvicorn

from shared.settings import ServiceSettings


def serve(app: Any, settings: ServiceSettings, **overrides: Any) -> None:
    """`app` is an ASGI app, or an import string with `factory=True` for worker processes."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }
    options.update(overrides)
    uvicorn.run(app, **options)
