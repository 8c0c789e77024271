"""Run a service's ASGI app the one way all three do: uvloop, httptools with the limits of
shared.guarded_http, our JSON logging (uvicorn's own log config off), no access log
(request metrics cover it)."""

from __future__ import annotations

import gc
from collections.abc import Collection
from typing import Any

import uvicorn
from fastapi import FastAPI

from shared.admission import OPERATIONAL, Admission
from shared.http import answer_problems
from shared.request_metrics import RequestMetrics
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


def protect(
    app: FastAPI,
    settings: ServiceSettings,
    exempt: Collection[str] = (),
    exempt_endings: tuple[str, ...] = (),
) -> None:
    """The layers every service's API gets: problem+json for the framework's own errors,
    the in-flight cap with its share kept for keyed callers (`exempt` paths, such as long
    streams with a cap of their own, never shed), request metrics outermost."""
    answer_problems(app)
    app.add_middleware(
        Admission,
        limit=settings.max_in_flight,
        keyed_share=settings.keyed_share,
        exempt=(*OPERATIONAL, *exempt),
        exempt_endings=exempt_endings,
    )
    app.add_middleware(RequestMetrics, service=settings.service_name)


def serve(app: Any, settings: ServiceSettings, **overrides: Any) -> None:
    """Run the ASGI `app` in this process."""
    relax_gc()
    options = uvicorn_options(settings, **overrides)
    uvicorn.run(app, host=settings.host, port=settings.port, **options)


def uvicorn_options(settings: ServiceSettings, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "loop": "uvloop",
        "http": settings.http_limits().protocol(),  # httptools, with per-connection limits
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_keep_alive": settings.keep_alive_s,
        # X-Forwarded-For believed from the trusted proxies only (uvicorn's own default
        # trusts 127.0.0.1, i.e. any local caller).
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
    }
    options.update(overrides)
    return options
