"""The delivery console (`/console/`): server-rendered pages for delivery teams — cases,
their dossiers, a manifest, downloads, acknowledgement, and the audit trail of downloads.
Signed in with a `dossiers:read` key; acknowledging needs `dossiers:write`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from services.delivery.domain.console import (
    MAX_PAGE,
    ConsoleSession,
    csrf_valid,
    open_session,
    page_size,
)
from services.delivery.entrypoints.api import acknowledge_dossier, send_file
from services.delivery.entrypoints.console_web import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    ConsoleParts,
    checked_form,
    current_session,
    now,
    page,
    read_form,
    refused,
    set_cookie,
    sign_in_page,
)
from shared.apikeys import ApiKey, find_key

FILES = {
    "signatures.csv": "text/csv; charset=utf-8",
    "messages.csv": "text/csv; charset=utf-8",
    "dossier.pdf": "application/pdf",
}
ACK_REFUSED = {
    404: "No such dossier.",
    409: "This dossier cannot be acknowledged in its present status.",
}


def install(app: FastAPI) -> None:
    app.include_router(_router())


def _parts(request: Request) -> ConsoleParts:
    parts: ConsoleParts = request.app.state.delivery_console
    return parts


Parts = Annotated[ConsoleParts, Depends(_parts)]
Page = Annotated[int | None, Query(ge=1, le=MAX_PAGE)]


async def _signed_in(request: Request, parts: Parts) -> ConsoleSession | Response:
    """The session, or the sign-in page (401) to answer instead."""
    session = await current_session(request, parts)
    return session if session else sign_in_page(request, 401)


Session = Annotated[ConsoleSession | Response, Depends(_signed_in)]


def _home() -> Response:
    return RedirectResponse("/console/", status_code=303)


def _router() -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    @router.get("/")
    async def cases(request: Request, parts: Parts, session: Session) -> Response:
        if isinstance(session, Response):
            return session
        found = await parts.api.queries.cases()
        for case in found:
            record = parts.api.catalogue.get(case["case_id"])
            case["name"] = record.case.name if record else case["case_id"]
        return page(request, "cases.html", session=session, cases=found)

    @router.post("/sign-in")
    async def sign_in(request: Request, parts: Parts) -> Response:
        form = await read_form(request)
        if form is None or not csrf_valid(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf")):
            return refused(request, "The sign-in form expired: open the console again.")
        key: ApiKey | None = None
        if form.get("key"):
            async with parts.api.pool.acquire() as conn:
                key = await find_key(conn, form["key"])
        opened = key and open_session(
            key.name, frozenset(s.value for s in key.scopes), now(), parts.session_ttl
        )
        if not opened:
            return sign_in_page(request, 401, "Unknown key, or one that cannot read dossiers.")
        await parts.sessions.open(opened, now())
        answer = _home()
        set_cookie(
            request, answer, SESSION_COOKIE, opened.token, int(parts.session_ttl.total_seconds())
        )
        answer.delete_cookie(SIGN_IN_COOKIE, path="/console")
        return answer

    @router.post("/sign-out")
    async def sign_out(request: Request, parts: Parts, session: Session) -> Response:
        if isinstance(session, Response):
            return session
        _, refusal = await checked_form(request, session)
        if refusal:
            return refusal
        await parts.sessions.close(request.cookies[SESSION_COOKIE])
        answer = _home()
        answer.delete_cookie(SESSION_COOKIE, path="/console")
        return answer

    @router.get("/cases/{case_id}")
    async def case_dossiers(
        request: Request,
        case_id: str,
        parts: Parts,
        session: Session,
        after: uuid.UUID | None = None,
        limit: Page = None,
    ) -> Response:
        if isinstance(session, Response):
            return session
        size = page_size(limit)
        dossiers = await parts.api.queries.list_dossiers(case_id, None, size, after)
        following = dossiers[-1]["id"] if len(dossiers) == size else None
        record = parts.api.catalogue.get(case_id)
        name = record.case.name if record else case_id
        return page(
            request,
            "case.html",
            session=session,
            case_id=case_id,
            name=name,
            dossiers=dossiers,
            following=following,
            size=size,
        )

    @router.get("/dossiers/{dossier_id}")
    async def dossier(
        request: Request, dossier_id: uuid.UUID, parts: Parts, session: Session
    ) -> Response:
        if isinstance(session, Response):
            return session
        found = await parts.api.queries.get(dossier_id)
        if found is None:
            return page(request, "refused.html", 404, reason="No such dossier.", session=session)
        trail = await parts.api.queries.downloads(dossier_id, 100)
        return page(request, "dossier.html", session=session, dossier=found, downloads=trail)

    @router.get("/dossiers/{dossier_id}/files/{name}")
    async def download(
        request: Request, dossier_id: uuid.UUID, name: str, parts: Parts, session: Session
    ) -> Response:
        if isinstance(session, Response):
            return session
        if name not in FILES:
            return page(request, "refused.html", 404, reason="No such file.", session=session)
        as_key = ApiKey(session.key_name, frozenset(), 0)
        return await send_file(parts.api, dossier_id, as_key, name, FILES[name])

    @router.post("/dossiers/{dossier_id}/acknowledge")
    async def acknowledge(
        request: Request, dossier_id: uuid.UUID, parts: Parts, session: Session
    ) -> Response:
        if isinstance(session, Response):
            return session
        form, refusal = await checked_form(request, session)
        if refusal or form is None:
            return refusal or refused(request, "Empty form.")
        if not session.can_acknowledge:
            return refused(request, "Acknowledging needs a key with dossiers:write.")
        by = form.get("by", "").strip()[:200]
        if not by:
            return refused(request, "Say who takes the dossier over.")
        done = await acknowledge_dossier(parts.api, dossier_id, by, form.get("note", "")[:2000])
        if isinstance(done, Response):
            reason = ACK_REFUSED.get(done.status_code, "The acknowledgement was refused.")
            return page(request, "refused.html", done.status_code, reason=reason, session=session)
        return RedirectResponse(f"/console/dossiers/{dossier_id}", status_code=303)

    @router.get("/downloads")
    async def downloads(
        request: Request,
        parts: Parts,
        session: Session,
        before: int | None = None,
        limit: Page = None,
    ) -> Response:
        if isinstance(session, Response):
            return session
        size = page_size(limit)
        trail = await parts.api.queries.downloads(None, size, before)
        following = trail[-1]["id"] if len(trail) == size else None
        return page(
            request,
            "downloads.html",
            session=session,
            downloads=trail,
            following=following,
            size=size,
        )

    return router
