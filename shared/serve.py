"""Run a service's ASGI app the one way all three do: uvloop, httptools, our JSON logging
(uvicorn's own log config off), no access log (request metrics cover it)."""

from __future__ import annotations

import gc
from typing import Any

import uvicorn

from shared.settings import ServiceSettings

# The first generation is collected every GEN0 allocations net of frees. At CPython's
# default (2,000) a consumed batch of 5,000 decoded actions sets off dozens of
# collections, and each tenth one rescans the older generations: measured, 20 % of the
# counter's throughput. Long-lived objects are few here and reference cycles rare.
GEN0, GEN1, GEN2 = 50_000, 50, 100


def relax_gc() -> None:
    """Move everything alive now (imports, settings, the app) out of the collector's
    sight and collect young objects less often; call once, when the process is set up."""
    gc.freeze()
    gc.set_threshold(GEN0, GEN1, GEN2)


def serve(app: Any, settings: ServiceSettings, **overrides: Any) -> None:
    """Run the ASGI `app` in this process."""
    relax_gc()
    uvicorn.run(app, host=settings.host, port=settings.port, **uvicorn_options(**overrides))


def uvicorn_options(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }
    options.update(overrides)
    return options
