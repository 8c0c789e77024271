"""POST /v1/actions/batch: partner systems send up to 1,000 actions; each gets its own
result, and all accepted ones are acknowledged by Kafka before the answer."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request
from starlette.responses import Response

from services.intake import service
from services.intake.domain import fast_model
from services.intake.domain.actions import Caller
from services.intake.domain.errors import FieldError, field_errors, is_invalid_json
from services.intake.domain.fast_model import Action
from services.intake.domain.model import ActionIn, BatchIn, Rules
from services.intake.domain.ports import PublishUnavailable
from services.intake.domain.whole_action import with_whole_action
from services.intake.entrypoints import guards
from services.intake.entrypoints.budget import NoRoom
from services.intake.entrypoints.requests import (
    BATCH_LIMIT,
    Refusal,
    announced_size,
    read_body,
    require_json,
)
from services.intake.entrypoints.state import IntakeState
from shared.apikeys import ApiKey, Scope


async def post_batch(request: Request) -> Response:
    intake: IntakeState = request.app.state.intake
    require_json(request)
    key = await guards.find_key(request, intake)
    if key is None:
        raise Refusal(401, "An API key with the actions:batch scope is required")
    if not key.allows(Scope.ACTIONS_BATCH):
        raise Refusal(403, "Forbidden", "this key lacks the actions:batch scope")
    settings = intake.settings
    try:
        size = announced_size(request, BATCH_LIMIT)
        room = intake.batch_budget.hold(key.name, size, settings.batch_wait_s)
        async with room:
            return await _accept(request, intake, key)
    except NoRoom as full:
        raise _no_room(full, settings.retry_after_s) from None


def _no_room(full: NoRoom, retry: int) -> Refusal:
    if full.owner_full:
        detail = "this key's batches in progress fill its share; nothing was accepted"
        return Refusal(429, "Too many batches at once", detail, retry_after=retry)
    return Refusal(
        503, "Busy", "other batches fill intake; nothing was accepted", retry_after=retry
    )


async def _accept(request: Request, intake: IntakeState, key: ApiKey) -> Response:
    body = await read_body(request, BATCH_LIMIT)
    publisher = guards.ready_publisher(intake)
    ctx = guards.context(intake, request)
    rules = guards.rules(intake, ctx)
    # A well-formed batch is read here, on the loop: msgspec reads it in a third of the time
    # its decision and sealing then hold the loop anyway, and reading it on the decoder
    # thread cost 8 % more CPU per action (GIL hand-offs). Any other goes to that thread:
    # pydantic tells each item's fate, slowly.
    items: Sequence[Action | list[FieldError]] | None = fast_model.parse_batch(body, rules)
    if items is None:
        loop = asyncio.get_running_loop()
        items = await loop.run_in_executor(intake.decoder, read_with_pydantic, body, rules)
    await guards.throttle(request, intake, key, cost=len(items))
    caller = Caller(key.name, key.allows(Scope.ACTIONS_TALLY), partner=True)
    try:
        results = await service.submit_batch(
            items, caller, intake.catalog.get, ctx, publisher, guards.holding(request, intake)
        )
    except PublishUnavailable as exc:
        raise guards.unavailable(intake, None, action_ids=exc.action_ids) from None
    return Response(orjson.dumps(_answer(results)), media_type="application/json")


def read_with_pydantic(body: bytes, rules: Rules) -> Sequence[Action | list[FieldError]]:
    """Each item of a batch msgspec refused (fast_model.py) parsed, or its field errors;
    a body that is not a batch at all is a 422: the contract's outcome, item by item."""
    try:
        return list(BatchIn.model_validate_json(body, context=rules).actions)
    except ValidationError as exc:
        if is_invalid_json(exc, body):
            raise guards.invalid(exc, body) from None
        per_item, whole = _split(exc.errors())
        if whole:
            raise Refusal(422, "Validation failed", errors=field_errors(whole)) from None
    # Some items failed: parse again item by item (the slow path, only for bad batches).
    raw_items = orjson.loads(body)["actions"]  # strict JSON: is_invalid_json said so
    items: list[Action | list[FieldError]] = []
    for index, raw in enumerate(raw_items):
        if index in per_item:
            errors = with_whole_action(per_item[index], raw, prefix=("actions", index))
            items.append(field_errors(errors, skip=2))
        else:
            items.append(ActionIn.model_validate_json(orjson.dumps(raw), context=rules))
    return items


def _split(
    errors: list[ErrorDetails],
) -> tuple[dict[int, list[ErrorDetails]], list[ErrorDetails]]:
    per_item: dict[int, list[ErrorDetails]] = defaultdict(list)
    whole: list[ErrorDetails] = []
    for error in errors:
        loc = error["loc"]
        if len(loc) >= 2 and loc[0] == "actions" and isinstance(loc[1], int):
            per_item[loc[1]].append(error)
        else:
            whole.append(error)
    return per_item, whole


def _answer(results: list[service.ItemResult]) -> dict[str, Any]:
    held = sum(1 for result in results if result.held)
    accepted = sum(1 for result in results if result.event is not None) - held
    answer: dict[str, Any] = {
        "accepted": accepted,
        "rejected": len(results) - accepted - held,
        "results": [_item(result) for result in results],
    }
    if held:
        answer["pending_confirmation"] = held
    return answer


def _item(result: service.ItemResult) -> dict[str, Any]:
    if result.event is None:
        return {"index": result.index, "status": "rejected", "errors": list(result.errors)}
    status = "pending_confirmation" if result.held else "accepted"
    # orjson writes the UUID as str() would, in C (str() was ~2 µs per action).
    return {"index": result.index, "status": status, "action_id": result.event.action_id}
