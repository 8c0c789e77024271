"""Checks every action route makes before handing over to the use cases: who is calling,
within their rate, with a publisher ready; and the refusals when one fails."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
from pydantic import ValidationError
from starlette.requests import Request

from services.intake import metrics
from services.intake.adapters.confirmation_mail import TEXTS
from services.intake.domain import fast_model
from services.intake.domain.actions import Context, Rejection
from services.intake.domain.errors import STRICT_JSON, field_errors, is_invalid_json
from services.intake.domain.fast_model import Action
from services.intake.domain.model import ActionIn, Rules
from services.intake.domain.ports import ActionPublisher
from services.intake.domain.rate_limit import burst
from services.intake.domain.whole_action import with_whole_action
from services.intake.entrypoints.case_texts import choose, requested_languages
from services.intake.entrypoints.requests import Refusal
from services.intake.entrypoints.state import IntakeState
from services.intake.service import Holding
from shared.apikeys import ApiKey, hash_key
from shared.http import client_address
from shared.logs import request_id_var


async def find_key(request: Request, intake: IntakeState) -> ApiKey | None:
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
        raise Refusal(429, "Too many unknown keys", detail, retry_after=attempt.wait)
    try:
        key = await intake.keys.find(secret)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        guard.not_asked(address, attempt, time.monotonic())
        retry = intake.settings.retry_after_s
        raise Refusal(503, "Keys cannot be checked now", retry_after=retry) from None
    if key is None:
        guard.unknown(key_hash)
        raise Refusal(401, "Unknown or revoked API key")
    guard.found(address, key_hash, attempt, time.monotonic())
    return key


async def throttle(request: Request, intake: IntakeState, key: ApiKey | None, cost: int) -> None:
    """429 when the caller (its key, else its address) is over its limit; counted for all
    intake processes together (intake.limits, Redis when configured)."""
    if key is None:
        subject, limit = "address", intake.settings.anonymous_rate_limit
        who = "addr:" + client_address(request)
    else:
        subject, limit, who = "key", key.rate_limit, "key:" + key.name
    if 0 < limit < cost:
        # Not a 429: no wait would let it pass. Refused like a batch above 1,000 items.
        metrics.rate_limit_decision(subject, "above_limit").inc()
        message = (
            f"at most {burst(limit)} actions per batch with this key "
            f"(its rate limit is {limit}/minute): split the batch"
        )
        errors = [{"field": "actions", "code": "above_rate_limit", "message": message}]
        raise Refusal(422, "Validation failed", errors=errors)
    wait = await intake.limits.take(who, limit, cost)
    metrics.rate_limit_decision(subject, "limited" if wait else "allowed").inc()
    if wait:
        raise Refusal(429, "Too many actions", f"limit {limit}/minute", retry_after=wait)


def rules(intake: IntakeState, ctx: Context) -> Rules:
    catalog = intake.catalog
    return Rules(lambda case_id: catalog.get(case_id) is not None, ctx.now, ctx.clock_skew_s)


def parse_action(body: bytes, rules: Rules) -> Action:
    """The action in `body`: read by msgspec when well-formed, else by pydantic, whose
    refusal is the answer (fast_model.py)."""
    fast = fast_model.parse_action(body, rules)
    if fast is not None:
        return fast
    try:
        return ActionIn.model_validate_json(body, context=rules)
    except ValidationError as exc:
        raise invalid(exc, body) from None


def invalid(exc: ValidationError, body: bytes) -> Refusal:
    """400 for a body that is not JSON; else 422 with every failing field of the action
    (its whole-action rules too, which pydantic skips once a field failed)."""
    if is_invalid_json(exc, body):
        return Refusal(400, "Body is not valid JSON", STRICT_JSON)
    errors = with_whole_action(exc.errors(), orjson.loads(body))  # valid JSON, said above
    return Refusal(422, "Validation failed", errors=field_errors(errors))


def ready_publisher(intake: IntakeState) -> ActionPublisher:
    if intake.publisher is None or not intake.catalog.loaded.is_set():
        raise unavailable(intake, None, "the service is starting")
    if not intake.publisher.available():
        raise unavailable(intake, None)
    return intake.publisher


def unavailable(
    intake: IntakeState,
    action_id: object,
    detail: str | None = None,
    action_ids: list[str | None] | None = None,
) -> Refusal:
    retry = intake.settings.retry_after_s
    refused = Refusal(
        503, "Kafka cannot take the write now", detail or "nothing was accepted", retry_after=retry
    )
    return refused.naming(action_id, action_ids)


def context(intake: IntakeState, request: Request) -> Context:
    now = datetime.now(UTC)
    return Context(
        intake.secret,
        now,
        intake.settings.clock_skew_s,
        request_id_var.get(),
        client_address(request),
        intake.origin_secret,
    )


def holding(request: Request, intake: IntakeState) -> Holding | None:
    """Where signatures wait for confirmation; asked in the language the request prefers."""
    if intake.pending is None:
        return None
    within = timedelta(days=intake.settings.confirm_within_days)
    return Holding(intake.pending, within, lambda: choose(requested_languages(request), set(TEXTS)))


def refusal_of(rejection: Rejection) -> Refusal:
    return Refusal(rejection.status, rejection.title, errors=list(rejection.errors))
