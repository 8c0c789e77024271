"""Checks every action route makes before handing over to the handlers: who is calling,
within their rate, with a publisher ready; and the answers when one fails."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from services.intake import metrics
from services.intake.domain.actions import Context, Rejection
from services.intake.domain.errors import STRICT_JSON, field_errors, is_invalid_json
from services.intake.domain.model import ActionIn, Rules
from services.intake.domain.ports import ActionPublisher
from services.intake.domain.rate_limit import AboveBurst
from services.intake.entrypoints.requests import Problem
from services.intake.runtime import Intake
from shared.apikeys import ApiKey, hash_key
from shared.http import client_address, problem
from shared.logs import request_id_var


async def find_key(request: Request, intake: Intake) -> ApiKey | None:
    """The live key the request carries, None without one; 429 before any look-up while
    its address has sent too many unknown keys (key_guesses.py)."""
    secret = request.headers.get("x-api-key")
    if secret is None:
        return None
    assert intake.keys is not None
    guard, address, key_hash = intake.key_guesses, client_address(request), hash_key(secret)
    attempt = guard.admit(address, key_hash, time.monotonic())
    if attempt.wait:
        metrics.KEY_GUESSES_REFUSED.inc()
        detail = "too many unknown API keys from this address"
        raise Problem(problem(429, "Too many unknown keys", detail, retry_after=attempt.wait))
    try:
        key = await intake.keys.find(secret)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        guard.not_asked(address, attempt, time.monotonic())
        raise Problem(
            problem(503, "Keys cannot be checked now", retry_after=intake.settings.retry_after_s)
        ) from None
    if key is None:
        guard.unknown(key_hash)
        raise Problem(problem(401, "Unknown or revoked API key"))
    guard.found(address, key_hash, attempt, time.monotonic())
    return key


def throttle(request: Request, intake: Intake, key: ApiKey | None, cost: int) -> None:
    if key is None:
        who, limit = "addr:" + client_address(request), intake.settings.anonymous_rate_limit
    else:
        who, limit = "key:" + key.name, key.rate_limit
    try:
        wait = intake.limiter.take(who, limit, cost, time.monotonic())
    except AboveBurst as above:
        # Not a 429: no wait would let it pass. Refused like a batch above 1,000 items.
        message = (
            f"at most {above.burst} actions per batch with this key "
            f"(its rate limit is {limit}/minute): split the batch"
        )
        raise Problem(
            problem(422, "Validation failed", errors=[{"field": "actions", "message": message}])
        ) from None
    if wait:
        raise Problem(problem(429, "Too many actions", f"limit {limit}/minute", retry_after=wait))


def rules(intake: Intake, ctx: Context) -> Rules:
    catalog = intake.catalog
    return Rules(lambda case_id: catalog.get(case_id) is not None, ctx.now, ctx.clock_skew_s)


def parse_action(body: bytes, rules: Rules) -> ActionIn:
    try:
        return ActionIn.model_validate_json(body, context=rules)
    except ValidationError as exc:
        raise Problem(invalid(exc, body)) from None


def invalid(exc: ValidationError, body: bytes) -> Response:
    if is_invalid_json(exc, body):
        return problem(400, "Body is not valid JSON", STRICT_JSON)
    return problem(422, "Validation failed", errors=field_errors(exc.errors()))


def ready_publisher(intake: Intake) -> ActionPublisher:
    if intake.publisher is None or not intake.catalog.loaded.is_set():
        raise Problem(unavailable(intake, None, "the service is starting"))
    if not intake.publisher.available():
        raise Problem(unavailable(intake, None))
    return intake.publisher


def unavailable(
    intake: Intake,
    action_id: object,
    detail: str | None = None,
    action_ids: list[str | None] | None = None,
) -> Response:
    extra: dict[str, Any] = {"retry_after": intake.settings.retry_after_s}
    if action_id is not None:  # so the caller can retry with the same id (counted once)
        extra["action_id"] = str(action_id)
    if action_ids is not None:  # a batch's, item by item (None: refused by validation)
        extra["action_ids"] = action_ids
    return problem(
        503, "Kafka cannot take the write now", detail or "nothing was accepted", **extra
    )


def context(intake: Intake) -> Context:
    now = datetime.now(UTC)
    return Context(intake.secret, now, intake.settings.clock_skew_s, request_id_var.get())


def rejection_response(rejection: Rejection) -> Response:
    extra: dict[str, Any] = {"errors": list(rejection.errors)}
    return problem(rejection.status, rejection.title, **extra)
