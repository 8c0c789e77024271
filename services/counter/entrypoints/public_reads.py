"""The counter's reads are public (totals, history, the streams): any web page may read
them from a browser (contract v2, "Browsers"). No credentials, so `*` is allowed."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware


def open_to_any_origin(app: FastAPI) -> None:
    """Outermost layer: a preflight is answered before the in-flight cap sees it."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET"],
        allow_headers=["Last-Event-ID", "If-None-Match", "Cache-Control"],
        expose_headers=["ETag"],
        max_age=600,
    )
