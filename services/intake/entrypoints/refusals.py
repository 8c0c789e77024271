"""Every 503 of the action routes names the ids of the actions it refuses (contract v2),
those answered before the actions reached the publisher too: the in-flight cap's
"Overloaded", the batch budget's "Busy", the key store or Kafka not ready. The ids are the
client's own, or ones assigned here that the client's retry carries, so the retry counts
once. Cheap on purpose (these answers shed load): the bounded body is read and only the
ids are picked out of it, nothing is validated; and the bodies read so are bounded in all
(NAMING_ROOM_BYTES), or a flood of refused 4 MiB batches would hold gigabytes. A refusal
that finds no room within NAMING_WAIT_S names no id (nothing of it was written), and is
counted in plume_intake_unnamed_refusals_total."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from services.intake import metrics
from services.intake.entrypoints.budget import ByteBudget, NoRoom
from services.intake.entrypoints.raw_route import Endpoint
from services.intake.entrypoints.requests import (
    BATCH_LIMIT,
    SINGLE_LIMIT,
    Refusal,
    announced_size,
    read_body,
)
from shared.admission import ShedFields

# The action routes, and whether each takes a batch.
ACTION_ROUTES = {("POST", "/v1/actions"): False, ("POST", "/v1/actions/batch"): True}
NAMING_ROOM_BYTES = 16 * 2**20  # refused bodies read at once, per process
NAMING_WAIT_S = 2.0


async def naming_the_actions(
    request: Request, refused: Refusal, batch: bool, room: ByteBudget
) -> Refusal:
    """`refused` naming the ids of the body's actions; as it was when the body cannot be
    read (too large, or no room to read it) or holds no actions."""
    limit = BATCH_LIMIT if batch else SINGLE_LIMIT
    try:
        async with room.hold("refused", announced_size(request, limit), NAMING_WAIT_S):
            body = await read_body(request, limit)
    except NoRoom:
        metrics.UNNAMED_REFUSALS.inc()
        return refused
    except Refusal:
        return refused
    if batch:
        return refused.naming(action_ids=action_ids_in(body))
    return refused.naming(action_id_in(body))


def naming_503s(endpoint: Endpoint, batch: bool) -> Endpoint:
    """`endpoint` whose every 503 names the actions' ids (those refused before the body was
    read included)."""

    @functools.wraps(endpoint)
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Refusal as refused:
            if refused.status != 503 or refused.names_actions:
                raise
            room = request.app.state.intake.naming_room
            raise await naming_the_actions(request, refused, batch, room) from None

    return answer


def naming_the_shed(room: ByteBudget) -> ShedFields:
    """The fields naming the actions of a request the in-flight cap sheds (none for the
    routes that take no action)."""

    async def ids_of_shed(scope: Scope, receive: Receive) -> dict[str, Any]:
        batch = ACTION_ROUTES.get((scope["method"], scope["path"]))
        if batch is None:
            return {}
        shed = Refusal(503, "Overloaded")
        return (await naming_the_actions(Request(scope, receive), shed, batch, room)).extra

    return ids_of_shed


def action_id_in(body: bytes) -> str:
    """The action_id the body carries when it is a well-formed UUID, else a new one."""
    try:
        return _id_of(orjson.loads(body))
    except orjson.JSONDecodeError:
        return str(uuid.uuid4())


def action_ids_in(body: bytes) -> list[str | None] | None:
    """Each item's id as `action_id_in` finds it, in the batch's order (None for an item
    that is not an object, so cannot carry one); None when the body holds no batch."""
    try:
        items = orjson.loads(body).get("actions")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(items, list):
        return None
    return [_id_of(item) if isinstance(item, dict) else None for item in items]


def _id_of(action: Any) -> str:
    given = action.get("action_id") if isinstance(action, dict) else None
    try:
        return str(uuid.UUID(given)) if isinstance(given, str) else str(uuid.uuid4())
    except ValueError:
        return str(uuid.uuid4())
