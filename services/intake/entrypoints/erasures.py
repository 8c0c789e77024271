"""`POST /v1/erasures` {"email": "…"} (key with `supporters:erase`): destroys the
supporter's data key at once and keeps a receipt (shared/erasures.py); answered 202 with
the receipt's id while the services scrub their rows. `GET /v1/erasures/{receipt_id}`
(same scope): the receipt, what was done, and what is still pending."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.intake.domain.model import ErasureIn
from services.intake.domain.supporter_key import supporter_key
from services.intake.entrypoints import docs
from services.intake.entrypoints.guards import find_key, invalid
from services.intake.entrypoints.raw_route import Endpoint, RawRoute
from services.intake.entrypoints.requests import SINGLE_LIMIT, Refusal, read_body, require_json
from services.intake.entrypoints.state import IntakeState
from shared import erasures
from shared.apikeys import Scope


def install(app: FastAPI) -> None:
    def add(path: str, endpoint: Endpoint, method: str, described: dict[str, Any]) -> None:
        app.router.add_api_route(
            path, endpoint, methods=[method], route_class_override=RawRoute, **described
        )

    add("/v1/erasures", post_erasure, "POST", docs.ERASURE)
    add("/v1/erasures/{receipt_id}", get_receipt, "GET", docs.RECEIPT)


async def _eraser(request: Request) -> tuple[IntakeState, str]:
    intake: IntakeState = request.app.state.intake
    key = await find_key(request, intake)
    if key is None:
        raise Refusal(401, "An API key is needed", "a key with the supporters:erase scope")
    if not key.allows(Scope.SUPPORTERS_ERASE):
        raise Refusal(403, "Forbidden", "this key lacks the supporters:erase scope")
    if intake.data_keys is None:
        raise Refusal(503, "The service is starting", retry_after=intake.settings.retry_after_s)
    return intake, key.name


async def post_erasure(request: Request) -> Response:
    require_json(request)
    intake, key_name = await _eraser(request)
    body = await read_body(request, SINGLE_LIMIT)
    try:
        email = ErasureIn.model_validate_json(body).email
    except ValidationError as exc:
        raise invalid(exc, body) from None
    lookup = supporter_key(intake.secret, email)
    assert intake.data_keys is not None
    store = intake.data_keys.store
    try:
        receipt_id = await erasures.request_erasure(store.pool, store, lookup, f"key:{key_name}")
    except (OSError, asyncpg.PostgresError, TimeoutError):
        raise Refusal(
            503, "Erasures cannot be recorded now", retry_after=intake.settings.retry_after_s
        ) from None
    intake.data_keys.forget(lookup)  # this process at once; the others by notification
    return JSONResponse({"receipt_id": str(receipt_id)}, status_code=202)


async def get_receipt(request: Request) -> Response:
    intake, _ = await _eraser(request)
    try:
        receipt_id = uuid.UUID(request.path_params["receipt_id"])
    except ValueError:
        raise Refusal(404, "No such receipt") from None
    assert intake.data_keys is not None
    async with intake.data_keys.store.pool.acquire() as conn:
        found = await erasures.receipt(conn, receipt_id)
    if found is None:
        raise Refusal(404, "No such receipt")
    return JSONResponse(found)
