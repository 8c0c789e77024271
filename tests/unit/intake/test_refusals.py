"""Which id a 503 names when it refuses an action before publishing it."""

from __future__ import annotations

import uuid

import orjson
import pytest

from services.intake.entrypoints.refusals import action_id_in

pytestmark = pytest.mark.unit


def test_the_clients_own_action_id_is_named() -> None:
    given = str(uuid.uuid4())
    assert action_id_in(orjson.dumps({"action_id": given.upper()})) == given


@pytest.mark.parametrize(
    "body", [b"{}", b'{"action_id": "not-a-uuid"}', b'{"action_id": 7}', b"[1]", b"not json"]
)
def test_an_action_without_a_usable_id_gets_a_new_one(body: bytes) -> None:
    assert uuid.UUID(action_id_in(body)).version == 4
