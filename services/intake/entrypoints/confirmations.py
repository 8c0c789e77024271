"""The page a confirmation link opens. A GET only shows it (mail scanners follow links);
its button POSTs, which publishes the held signature: from then on it counts."""

from __future__ import annotations

import html

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse

from services.intake import service
from services.intake.domain.confirmations import token_hash
from services.intake.domain.ports import PublishUnavailable
from services.intake.entrypoints.case_texts import choose, requested_languages
from services.intake.entrypoints.state import IntakeState

PATH = "/v1/confirmations/{token}"
TEXTS = {
    "en": {
        "title": "Confirm your signature",
        "ask": "You signed for {case}. Confirm it and your signature counts.",
        "button": "Confirm my signature",
        "done": "Thank you: your signature for {case} counts.",
        "unknown": "This link is unknown or has expired; an unconfirmed signature is erased.",
        "busy": "We could not record it just now. Please try again in a minute.",
    },
    "fr": {
        "title": "Confirmez votre signature",
        "ask": "Vous avez signé pour {case}. Confirmez-la et votre signature comptera.",
        "button": "Confirmer ma signature",
        "done": "Merci : votre signature pour {case} compte.",
        "unknown": "Ce lien est inconnu ou a expiré ; une signature non confirmée est effacée.",
        "busy": "Nous n'avons pas pu l'enregistrer. Merci de réessayer dans une minute.",
    },
}


def install(app: FastAPI) -> None:
    app.add_api_route(PATH, show, methods=["GET"], include_in_schema=False)
    app.add_api_route(PATH, confirm, methods=["POST"], include_in_schema=False)


def _page(
    request: Request, key: str, status: int = 200, case: str = "", form: bool = False
) -> HTMLResponse:
    language = choose(requested_languages(request), set(TEXTS))
    texts = TEXTS[language]
    message = html.escape(texts[key].format(case=case))
    button = (
        f'<form method="post"><button type="submit">{html.escape(texts["button"])}</button></form>'
        if form
        else ""
    )
    body = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(texts['title'])}</title></head>"
        f'<body><main><h1>{html.escape(texts["title"])}</h1><p id="message">{message}</p>'
        f"{button}</main></body></html>"
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(body, status_code=status, headers=headers)


def _case_name(intake: IntakeState, case_id: str) -> str:
    record = intake.catalog.get(case_id)
    return record.case.name if record else case_id


async def show(request: Request, token: str) -> HTMLResponse:
    intake: IntakeState = request.app.state.intake
    pending = await intake.pending.find(token_hash(token)) if intake.pending else None
    if pending is None:
        return _page(request, "unknown", 404)
    case = _case_name(intake, pending.case_id)
    return _page(
        request, "done" if pending.event is None else "ask", case=case, form=bool(pending.event)
    )


async def confirm(request: Request, token: str) -> HTMLResponse:
    intake: IntakeState = request.app.state.intake
    if intake.pending is None or intake.publisher is None:
        return _page(request, "busy", 503)
    try:
        pending = await service.confirm_signature(token, intake.pending, intake.publisher)
    except PublishUnavailable:
        return _page(request, "busy", 503)
    if pending is None:
        return _page(request, "unknown", 404)
    return _page(request, "done", case=_case_name(intake, pending.case_id))
