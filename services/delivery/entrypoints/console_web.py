"""The console's web plumbing: templates, the session cookie, forms and their CSRF check.
The key itself only ever travels in the sign-in form's body (never a URL, never logged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from services.delivery.adapters.console_sessions import PgConsoleSessions
from services.delivery.domain.console import ConsoleSession, csrf_valid, new_token
from services.delivery.entrypoints.api import ApiParts

SESSION_COOKIE = "plume_console"
SIGN_IN_COOKIE = "plume_console_sign_in"  # the sign-in form's CSRF token (no session yet)
COOKIE_PATH = "/console"
MAX_FORM_BYTES = 16_384
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "console_templates")
# No external assets at all: styles are inline, forms post to this origin only.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _when(moment: str | None) -> str:
    """An ISO-8601 UTC moment as people read it: to the second, "UTC" spelt out."""
    return f"{moment[:19].replace('T', ' ')} UTC" if moment else "—"


TEMPLATES.env.filters["when"] = _when


@dataclass(frozen=True)
class ConsoleParts:
    """What the console uses; bootstrap keeps it in `app.state.delivery_console`."""

    api: ApiParts
    sessions: PgConsoleSessions
    session_ttl: timedelta


def now() -> datetime:
    return datetime.now(UTC)


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    answer = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    answer.headers.update(HEADERS)
    return answer


async def current_session(request: Request, parts: ConsoleParts) -> ConsoleSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await parts.sessions.find(token, now()) if token else None


def set_cookie(request: Request, answer: Response, name: str, value: str, max_age: int) -> None:
    answer.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_in_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The sign-in form with a fresh CSRF token, also set in its own cookie."""
    token = new_token()
    answer = page(request, "sign_in.html", status, csrf=token, error=error)
    set_cookie(request, answer, SIGN_IN_COOKIE, token, 600)
    return answer


async def read_form(request: Request) -> dict[str, str] | None:
    """The form's fields (first value of each), None for a body too large to be ours."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    fields = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def refused(request: Request, reason: str) -> Response:
    return page(request, "refused.html", 403, reason=reason)


async def checked_form(
    request: Request, session: ConsoleSession
) -> tuple[dict[str, str] | None, Response | None]:
    """The form if it carries the session's CSRF token; else the 403 page refusing it."""
    form = await read_form(request)
    if form is None or not csrf_valid(session.csrf_token, form.get("csrf")):
        return None, refused(request, "This form has expired or did not come from the console.")
    return form, None
