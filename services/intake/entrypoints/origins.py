"""CORS with the origins allowed now: PLUME_INTAKE_CORS_ORIGINS plus every campaign file's
`allowed_origins`, read from the followed catalogue, so a reloaded campaign file takes
effect without a restart (contract v2, "Browsers")."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from services.intake.entrypoints.cors import ProblemCORSMiddleware
from shared.catalog import CatalogView

METHODS = ["GET", "POST"]
HEADERS = ["Content-Type", "X-API-Key", "X-Request-Id"]
EXPOSED = ["Retry-After", "X-Request-Id"]


class AllowedOrigins:
    """The configured origins and the catalogue's, recomputed only when the catalogue
    changed (a preflight is answered from a set lookup)."""

    def __init__(self, configured: Iterable[str], catalog: CatalogView) -> None:
        self.configured = frozenset(configured)
        self.catalog = catalog
        self._version = -1
        self._origins = self.configured

    def __contains__(self, origin: object) -> bool:
        if self._version != self.catalog.version:
            from_campaigns = {o for r in self.catalog.cases.values() for o in r.allowed_origins}
            self._origins = self.configured | from_campaigns
            self._version = self.catalog.version
        return origin in self._origins


class LiveCORS(ProblemCORSMiddleware):
    """Starlette's CORS (problem+json refusals) whose origin check asks `AllowedOrigins`."""

    def __init__(self, app: ASGIApp, origins: AllowedOrigins) -> None:
        super().__init__(
            app,
            allow_origins=(),
            allow_methods=METHODS,
            allow_headers=HEADERS,
            expose_headers=EXPOSED,
            max_age=600,
        )
        self.origins = origins

    def is_allowed_origin(self, origin: str) -> bool:
        return origin in self.origins
