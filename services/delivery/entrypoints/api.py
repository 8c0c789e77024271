"""The delivery team's API: list, manifest, downloads (each one recorded), acknowledge,
cut now. Keys in `X-API-Key` with `dossiers:read` / `dossiers:write`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import Response

from services.delivery import handlers
from services.delivery.adapters.dossier_queries import PgDossierQueries
from services.delivery.bootstrap import Delivery
from services.delivery.domain.status import DossierStatus, TransitionRefused
from services.delivery.ports import NotFound
from shared.apikeys import ApiKey, Scope, find_key
from shared.contracts.catalog import SLUG_PATTERN
from shared.http import problem


class Refused(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail


def install(app: FastAPI, delivery: Callable[[], Delivery]) -> None:
    """Add the routes; `delivery()` gives the running service's parts (also kept in
    `app.state.delivery` by the lifespan, for the key checks)."""

    async def on_refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return problem(exc.status, exc.title, exc.detail)

    app.add_exception_handler(Refused, on_refused)
    app.include_router(_router(delivery))


def _delivery(request: Request) -> Delivery:
    d: Delivery = request.app.state.delivery
    return d


def _key_check(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    async def check(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> ApiKey:
        if not x_api_key:
            raise Refused(401, "API key required", "send it in the X-API-Key header")
        async with _delivery(request).pool.acquire() as conn:
            key = await find_key(conn, x_api_key)
        if key is None:
            raise Refused(401, "Unknown or revoked API key")
        if not key.allows(scope):
            raise Refused(403, "Missing scope", f"this needs a key with {scope.value}")
        return key

    return check


Reader = Annotated[ApiKey, Depends(_key_check(Scope.DOSSIERS_READ))]
# A case id as the campaign file spells it; anything else (a NUL byte, which PostgreSQL
# refuses in text) is a 422 before any query.
CaseFilter = Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=80)]
Writer = Annotated[ApiKey, Depends(_key_check(Scope.DOSSIERS_WRITE))]


def _router(delivery: Callable[[], Delivery]) -> APIRouter:
    router = APIRouter(prefix="/v1")

    def queries() -> PgDossierQueries:
        d = delivery()
        return PgDossierQueries(d.pool, d.settings.db_schema)

    @router.get("/dossiers")
    async def list_dossiers(
        _: Reader, case_id: CaseFilter = None, status: DossierStatus | None = None
    ) -> list[dict[str, Any]]:
        return await queries().list_dossiers(case_id, status.value if status else None)

    @router.get("/dossiers/{dossier_id}")
    async def get_manifest(dossier_id: uuid.UUID, _: Reader) -> dict[str, Any]:
        found = await queries().get(dossier_id)
        if found is None:
            raise Refused(404, "No such dossier")
        return found

    async def download(dossier_id: uuid.UUID, key: ApiKey, name: str, media: str) -> Response:
        found = await queries().get(dossier_id)
        if found is None:
            raise Refused(404, "No such dossier")
        if name not in found["sha256"]:
            raise Refused(404, "File not ready", f"{name} is not rendered (yet) for this dossier")
        path = delivery().settings.dossier_dir / str(dossier_id) / name
        await queries().record_download(dossier_id, key.name, name)
        return FileResponse(path, media_type=media, filename=name)

    @router.get("/dossiers/{dossier_id}/signatures.csv")
    async def signatures_csv(dossier_id: uuid.UUID, key: Reader) -> Response:
        return await download(dossier_id, key, "signatures.csv", "text/csv; charset=utf-8")

    @router.get("/dossiers/{dossier_id}/messages.csv")
    async def messages_csv(dossier_id: uuid.UUID, key: Reader) -> Response:
        return await download(dossier_id, key, "messages.csv", "text/csv; charset=utf-8")

    @router.get("/dossiers/{dossier_id}/dossier.pdf")
    async def dossier_pdf(dossier_id: uuid.UUID, key: Reader) -> Response:
        return await download(dossier_id, key, "dossier.pdf", "application/pdf")

    @router.post("/dossiers/{dossier_id}/acknowledge")
    async def acknowledge(dossier_id: uuid.UUID, _: Writer) -> dict[str, Any]:
        try:
            await delivery().ledger.acknowledge(dossier_id)
        except NotFound:
            raise Refused(404, "No such dossier") from None
        except TransitionRefused as exc:
            raise Refused(409, "Cannot acknowledge", str(exc)) from None
        found = await queries().get(dossier_id)
        assert found is not None
        return found

    @router.post("/cases/{case_id}/dossiers")
    async def cut_now(case_id: str, _: Writer) -> Response:
        d = delivery()
        if not d.catalog.loaded.is_set():
            raise Refused(503, "Catalogue loading", "the case catalogue is not read yet")
        try:
            ids = await handlers.cut_case_now(d.pool, d.cutter, d.catalog, case_id)
        except asyncpg.PostgresError:
            raise Refused(503, "Database unavailable") from None
        if ids is None:
            raise Refused(404, "No such case", f"{case_id!r} is not in the catalogue")
        created = await queries().many(ids)
        return JSONResponse(created, status_code=201 if created else 200)

    return router
