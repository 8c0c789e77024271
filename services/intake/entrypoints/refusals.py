"""A 503 answered before the action reached the publisher (the key store or Kafka not
ready) still names the action's id, as every 503 must (contract v2): the client's own, or
one assigned here that the client's retry carries, so the retry counts once."""

from __future__ import annotations

import uuid

import orjson
from starlette.requests import Request

from services.intake.entrypoints.requests import SINGLE_LIMIT, Refusal, read_body


async def naming_the_action(request: Request, refused: Refusal) -> Refusal:
    """`refused` with the action's id added; as it was when the body cannot be read."""
    try:
        body = await read_body(request, SINGLE_LIMIT)
    except Refusal:
        return refused
    refused.extra["action_id"] = action_id_in(body)
    return refused


def action_id_in(body: bytes) -> str:
    """The action_id the body carries when it is a well-formed UUID, else a new one."""
    try:
        given = orjson.loads(body).get("action_id")
        return str(uuid.UUID(given)) if isinstance(given, str) else str(uuid.uuid4())
    except (orjson.JSONDecodeError, AttributeError, ValueError):
        return str(uuid.uuid4())
