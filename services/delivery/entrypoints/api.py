"""The delivery team's API: list (paged on request), manifest, downloads (each one
recorded), acknowledge (who, note), cut now. Keys in `X-API-Key` with `dossiers:read` /
`dossiers:write`. Every error is answered by shared.http.problem."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from services.delivery import service
from services.delivery.adapters.dossier_queries import PgDossierQueries
from services.delivery.domain.console import MAX_PAGE, page_size
from services.delivery.domain.ports import Catalogue, Cutter, NotFound, TransmissionLedger
from services.delivery.domain.status import DossierStatus, TransitionRefused
from shared.apikeys import ApiKey, Scope, find_key
from shared.contracts.catalog import SLUG_PATTERN
from shared.http import problem


@dataclass(frozen=True)
class ApiParts:
    """What the routes use; bootstrap keeps it in `app.state.delivery_api` while running."""

    pool: asyncpg.Pool
    queries: PgDossierQueries
    ledger: TransmissionLedger
    cutter: Cutter
    catalogue: Catalogue
    dossier_dir: Path


def install(app: FastAPI) -> None:
    app.include_router(_router())


def _parts(request: Request) -> ApiParts:
    parts: ApiParts = request.app.state.delivery_api
    return parts


Parts = Annotated[ApiParts, Depends(_parts)]


def _key_check(scope: Scope) -> Callable[..., Awaitable[ApiKey | Response]]:
    """The caller's key, or the problem answer refusing it."""

    async def check(
        parts: Parts, x_api_key: Annotated[str | None, Header()] = None
    ) -> ApiKey | Response:
        if not x_api_key:
            return problem(401, "API key required", "send it in the X-API-Key header")
        async with parts.pool.acquire() as conn:
            key = await find_key(conn, x_api_key)
        if key is None:
            return problem(401, "Unknown or revoked API key")
        if not key.allows(scope):
            return problem(403, "Missing scope", f"this needs a key with {scope.value}")
        return key

    return check


Reader = Annotated[ApiKey | Response, Depends(_key_check(Scope.DOSSIERS_READ))]
# A case id as the campaign file spells it; anything else (a NUL byte, which PostgreSQL
# refuses in text) is a 422 before any query.
CaseFilter = Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=80)]
Writer = Annotated[ApiKey | Response, Depends(_key_check(Scope.DOSSIERS_WRITE))]
NO_DOSSIER = (404, "No such dossier")


class Acknowledgement(BaseModel):
    """Who took the dossier over (a person or a team, as they sign) and their note."""

    by: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


async def send_file(
    parts: ApiParts, dossier_id: uuid.UUID, key: ApiKey | Response, name: str, media: str
) -> Response:
    """One of the dossier's files, its download recorded (who, which file, when)."""
    if isinstance(key, Response):
        return key
    found = await parts.queries.get(dossier_id)
    if found is None:
        return problem(*NO_DOSSIER)
    if found["files_deleted_at"]:
        gone = f"the files were deleted at {found['files_deleted_at']}, after their retention"
        return problem(410, "Files deleted", gone)
    if name not in found["sha256"]:
        return problem(404, "File not ready", f"{name} is not rendered (yet) for this dossier")
    path = parts.dossier_dir / str(dossier_id) / name
    await parts.queries.record_download(dossier_id, key.name, name)
    return FileResponse(path, media_type=media, filename=name)


async def acknowledge_dossier(
    parts: ApiParts, dossier_id: uuid.UUID, by: str, note: str | None
) -> dict[str, Any] | Response:
    """The hand-over recorded; the manifest after it, or the problem refusing it."""
    try:
        await parts.ledger.acknowledge(dossier_id, by, note or None)
    except NotFound:
        return problem(*NO_DOSSIER)
    except TransitionRefused as exc:
        return problem(409, "Cannot acknowledge", str(exc))
    found = await parts.queries.get(dossier_id)
    assert found is not None
    return found


def _router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/dossiers", response_model=None)
    async def list_dossiers(
        request: Request,
        parts: Parts,
        key: Reader,
        case_id: CaseFilter = None,
        status: DossierStatus | None = None,
        limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
        after: uuid.UUID | None = None,
    ) -> list[dict[str, Any]] | Response:
        if isinstance(key, Response):
            return key
        wanted = status.value if status else None
        if limit is None and after is None:  # v1: the whole listing, as before pages
            return await parts.queries.list_dossiers(case_id, wanted)
        size = page_size(limit)
        page = await parts.queries.list_dossiers(case_id, wanted, size, after)
        answer = JSONResponse(page)
        if len(page) == size:
            following = request.url.include_query_params(limit=size, after=page[-1]["id"])
            answer.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
        return answer

    @router.get("/dossiers/{dossier_id}", response_model=None)
    async def get_manifest(
        dossier_id: uuid.UUID, parts: Parts, key: Reader
    ) -> dict[str, Any] | Response:
        if isinstance(key, Response):
            return key
        found = await parts.queries.get(dossier_id)
        return problem(*NO_DOSSIER) if found is None else found

    @router.get("/dossiers/{dossier_id}/signatures.csv")
    async def signatures_csv(dossier_id: uuid.UUID, parts: Parts, key: Reader) -> Response:
        return await send_file(parts, dossier_id, key, "signatures.csv", "text/csv; charset=utf-8")

    @router.get("/dossiers/{dossier_id}/messages.csv")
    async def messages_csv(dossier_id: uuid.UUID, parts: Parts, key: Reader) -> Response:
        return await send_file(parts, dossier_id, key, "messages.csv", "text/csv; charset=utf-8")

    @router.get("/dossiers/{dossier_id}/dossier.pdf")
    async def dossier_pdf(dossier_id: uuid.UUID, parts: Parts, key: Reader) -> Response:
        return await send_file(parts, dossier_id, key, "dossier.pdf", "application/pdf")

    @router.post("/dossiers/{dossier_id}/acknowledge", response_model=None)
    async def acknowledge(
        dossier_id: uuid.UUID, parts: Parts, key: Writer, body: Acknowledgement | None = None
    ) -> dict[str, Any] | Response:
        if isinstance(key, Response):
            return key
        by, note = (body.by, body.note) if body else (key.name, None)
        return await acknowledge_dossier(parts, dossier_id, by, note)

    @router.post("/cases/{case_id}/dossiers")
    async def cut_now(case_id: str, parts: Parts, key: Writer) -> Response:
        if isinstance(key, Response):
            return key
        if not parts.catalogue.loaded.is_set():
            return problem(503, "Catalogue loading", "the case catalogue is not read yet")
        try:
            ids = await service.cut_case_now(parts.cutter, parts.catalogue, case_id)
        except asyncpg.PostgresError:
            return problem(503, "Database unavailable")
        if ids is None:
            return problem(404, "No such case", f"{case_id!r} is not in the catalogue")
        created = await parts.queries.many(ids)
        return JSONResponse(created, status_code=201 if created else 200)

    return router
