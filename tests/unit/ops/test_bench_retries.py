"""The benchmark's load generator retries a 503 as the contract asks of every client: with
the action ids the answer names (contract v2, "Outcome of a refused write")."""

from __future__ import annotations

import orjson
import pytest

from bench.intake_load import with_named_ids

pytestmark = pytest.mark.unit


def test_a_single_action_is_retried_with_the_id_the_503_named() -> None:
    body = orjson.dumps({"case_id": "c", "type": "signature"})
    answer = orjson.dumps({"status": 503, "action_id": "a-1"})
    assert orjson.loads(with_named_ids(body, answer))["action_id"] == "a-1"


def test_a_batch_is_retried_item_by_item_with_the_ids_named() -> None:
    body = orjson.dumps({"actions": [{"case_id": "c"}, {"case_id": "bad"}, {"case_id": "c"}]})
    answer = orjson.dumps({"status": 503, "action_ids": ["a-1", None, "a-3"]})
    items = orjson.loads(with_named_ids(body, answer))["actions"]
    assert [item.get("action_id") for item in items] == ["a-1", None, "a-3"]


@pytest.mark.parametrize(
    "answer", [b"", b"Overloaded", orjson.dumps({"status": 503}), orjson.dumps([1])]
)
def test_a_503_naming_no_id_resends_the_body_unchanged(answer: bytes) -> None:
    body = orjson.dumps({"actions": [{"case_id": "c"}]})
    assert orjson.loads(with_named_ids(body, answer)) == orjson.loads(body)
