"""Which id a 503 names when it refuses an action before publishing it."""

from __future__ import annotations

import uuid

import orjson
import pytest

from services.intake.entrypoints.refusals import action_id_in, action_ids_in

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
