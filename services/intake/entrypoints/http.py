"""The intake's HTTP routes: parse, authorise, rate-limit, hand over to the use cases, and
answer in the contract's words (problem+json for every error)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from services.intake import service
from services.intake.domain.actions import Caller, Rejection
from services.intake.domain.ports import PublishUnavailable
from services.intake.entrypoints import batch, docs, erasures
from services.intake.entrypoints.case_texts import LocalizedCases
from services.intake.entrypoints.guards import (
    context,
    find_key,
    holding,
    parse_action,
    ready_publisher,
    refusal_of,
    rules,
    throttle,
    unavailable,
)
from services.intake.entrypoints.raw_route import RawRoute
from services.intake.entrypoints.refusals import naming_503s
from services.intake.entrypoints.requests import SINGLE_LIMIT, Refusal, read_body, require_json
from services.intake.entrypoints.state import IntakeState
from shared.apikeys import Scope
from shared.http import answer_problems


def install(app: FastAPI) -> None:
    answer_problems(app)
    app.state.cases = LocalizedCases(app.state.intake.catalog)
    app.add_exception_handler(Refusal, _refusal_response)
    add = app.router.add_api_route
    add("/v1/actions", post_action, methods=["POST"], route_class_override=RawRoute, **docs.SINGLE)
    add(
        "/v1/actions/batch",
        post_batch,
        methods=["POST"],
        route_class_override=RawRoute,
        **docs.BATCH,
    )
    add("/v1/cases", list_cases, methods=["GET"], route_class_override=RawRoute, **docs.CASES)
    erasures.install(app)


async def _post_action(request: Request) -> Response:
    """POST /v1/actions: one action, answered 202 once Kafka has it. Every 503 names the
    action's id, the client's or one assigned here, to retry with (contract v2)."""
    intake: IntakeState = request.app.state.intake
    require_json(request)
    key = await find_key(request, intake)
    if key is not None and not key.allows(Scope.ACTIONS_WRITE):
        raise Refusal(403, "Forbidden", "this key lacks the actions:write scope")
    await throttle(request, intake, key, cost=1)
    body = await read_body(request, SINGLE_LIMIT)
    publisher = ready_publisher(intake)
    ctx = context(intake, request)
    action = parse_action(body, rules(intake, ctx))
    caller = Caller(key.name if key else "anonymous", bool(key and key.allows(Scope.ACTIONS_TALLY)))
    try:
        outcome = await service.submit_action(
            action, caller, intake.catalog.get, ctx, publisher, holding(request, intake)
        )
    except PublishUnavailable as exc:
        raise unavailable(intake, exc.action_id) from None
    if isinstance(outcome, Rejection):
        raise refusal_of(outcome)
    status = b"pending_confirmation" if isinstance(outcome, service.Held) else b"accepted"
    action_id = str(
        outcome.event.action_id if isinstance(outcome, service.Held) else outcome.action_id
    )
    return Response(
        b'{"action_id":"%s","status":"%s"}' % (action_id.encode(), status),
        status_code=202,
        media_type="application/json",
    )


post_action = naming_503s(_post_action, batch=False)
post_batch = naming_503s(batch.post_batch, batch=True)


async def list_cases(request: Request) -> Response:
    cases: LocalizedCases = request.app.state.cases
    return cases.answer(request)


async def _refusal_response(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return exc.response()


HOT_ROUTES = {("POST", "/v1/actions"): post_action, ("POST", "/v1/actions/batch"): post_batch}
