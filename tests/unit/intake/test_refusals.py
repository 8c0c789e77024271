"""Which id a 503 names when it refuses an action before publishing it."""

from __future__ import annotations

import uuid

import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message

from services.intake.entrypoints import refusals
from services.intake.entrypoints.budget import ByteBudget
from services.intake.entrypoints.refusals import action_id_in, action_ids_in, naming_the_actions
from services.intake.entrypoints.requests import Refusal

pytestmark = pytest.mark.unit


def test_the_clients_own_action_id_is_named() -> None:
    given = str(uuid.uuid4())
    assert action_id_in(orjson.dumps({"action_id": given.upper()})) == given


@pytest.mark.parametrize(
    "body", [b"{}", b'{"action_id": "not-a-uuid"}', b'{"action_id": 7}', b"[1]", b"not json"]
)
def test_an_action_without_a_usable_id_gets_a_new_one(body: bytes) -> None:
    assert uuid.UUID(action_id_in(body)).version == 4


def test_a_batch_names_each_items_id_in_order() -> None:
    given = str(uuid.uuid4())
    body = orjson.dumps({"actions": [{"action_id": given}, {"case_id": "x"}, 7, {"action_id": 1}]})
    named = action_ids_in(body)
    assert named is not None and len(named) == 4
    assert named[0] == given and named[2] is None
    assert uuid.UUID(named[1]).version == 4 and uuid.UUID(named[3]).version == 4  # assigned


@pytest.mark.parametrize("body", [b"{}", b'{"actions": 3}', b"[1]", b"not json"])
def test_a_body_without_a_batch_names_no_ids(body: bytes) -> None:
    assert action_ids_in(body) is None


def request_of(body: bytes) -> Request:
    headers = [(b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": "/v1/actions", "headers": headers}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def test_refused_bodies_are_read_within_a_bounded_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flood of refused requests must not read their bodies all at once: past the room,
    a refusal names no id (nothing of it was written) rather than hold more memory."""
    monkeypatch.setattr(refusals, "NAMING_WAIT_S", 0.01)
    room = ByteBudget(1_000, 1_000)
    body = orjson.dumps({"case_id": "x", "type": "letter"})
    async with room.hold("others", 1_000, 0):
        crowded = await naming_the_actions(request_of(body), Refusal(503, "Busy"), False, room)
    assert not crowded.names_actions
    named = await naming_the_actions(request_of(body), Refusal(503, "Busy"), False, room)
    assert uuid.UUID(named.extra["action_id"]).version == 4
    assert room.used == 0  # the room is given back once the ids are picked out
