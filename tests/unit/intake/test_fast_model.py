"""Intake reads well-formed actions with msgspec (fast_model.py) and every other body with
pydantic (model.ActionIn, the rule): whatever msgspec accepts, pydantic must accept with
the same values (the same normalisation, the same record on the wire); whatever it does
not, the routes answer with pydantic's outcome. Fixed odd bodies and generated ones."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from unittest import mock
from uuid import UUID

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bench import intake_bench
from services.intake.domain import actions, fast_model
from services.intake.domain.actions import Caller, Context, decide
from services.intake.domain.fast_model import Action, FastAction
from services.intake.domain.model import EXAMPLE, ActionIn, BatchIn
from services.intake.entrypoints import batch
from services.intake.entrypoints.guards import parse_action
from services.intake.entrypoints.requests import Refusal
from shared.contracts.action_record import ActionRecord, encode_record
from tests.unit.intake.builders import NOW, rules, signature
from tests.unit.intake.test_decide import CASES

pytestmark = pytest.mark.unit
FIXED_ID = UUID("0190b6a1-0000-7000-8000-000000000001")
CTX = Context(b"s" * 32, NOW, 300, "req-1", "203.0.113.7", b"o" * 32)
TALLIER = Caller("amnesty-sn", may_tally=True)


def values(action: Action) -> Any:
    """Every field as read, in plain values (a time with its offset)."""
    raw = action.model_dump() if isinstance(action, BaseModel) else _asdict(action)
    return json.loads(json.dumps(raw, default=_plain))


def _asdict(struct: msgspec.Struct) -> dict[str, Any]:
    return {
        name: _asdict(value) if isinstance(value, msgspec.Struct) else value
        for name, value in msgspec.structs.asdict(struct).items()
    }


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value.isoformat()} {value.utcoffset()}"
    return str(value)


def written(action: Action) -> bytes | str:
    """The record the decision writes for `action` (its id fixed when the server sets it)."""
    with mock.patch.object(actions, "new_action_id", lambda: FIXED_ID):
        outcome = decide(action, TALLIER, CASES.get, CTX)
    return encode_record(outcome) if isinstance(outcome, ActionRecord) else repr(outcome)


def assert_same_outcome(body: bytes) -> None:
    fast = fast_model.parse_action(body, rules())
    try:
        slow: ActionIn | None = ActionIn.model_validate_json(body, context=rules())
    except ValidationError:
        slow = None
    if fast is None:
        return  # the route asks pydantic: its outcome by construction
    assert slow is not None, f"msgspec accepted what pydantic refuses: {body!r}"
    assert values(fast) == values(slow), body
    assert written(fast) == written(slow), body


ODD: list[dict[str, Any]] = [
    signature(),
    EXAMPLE,
    intake_bench.action(3),
    intake_bench.action(4, shares=False),
    signature(action_id=None, occurred_at=None),
    signature(case_id="  sonia-dahmani  "),
    signature(case_id="Sonia-Dahmani"),
    signature(case_id="closed-case"),
    signature(case_id="nobody"),
    signature(case_id=""),
    signature(action_id="2B0F6C0E-5D1E-4A7A-9A51-0D6C2F1F9C11"),
    signature(action_id="2b0f6c0e5d1e4a7a9a510d6c2f1f9c11"),
    signature(action_id="{2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11}"),
    signature(action_id="urn:uuid:2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11"),
    signature(action_id=12),
    signature(supporter={"name": "  Awa  ", "email": " AWA@Example.ORG ", "country": "sn"}),
    signature(supporter={"name": "Awa", "email": "awa@exämple.org", "country": " SN "}),
    signature(supporter={"name": "A\u0301wa", "email": "awa@example.org"}),
    signature(supporter={"name": "=cmd", "email": "awa@example.org"}),
    signature(supporter={"name": "Awa www.x.com", "email": "awa@example.org"}),
    signature(supporter={"name": "Awa\u200b", "email": "awa@example.org"}),
    signature(supporter={"name": "Awa", "email": "not-an-email"}),
    signature(supporter={"name": "Awa", "email": '"q"@example.org'}),
    signature(supporter={"name": "Awa", "email": "awa@example.org", "country": "XX"}),
    signature(supporter={"name": "Awa", "email": "awa@example.org", "language": "FR-sn"}),
    signature(supporter={"name": "Awa", "email": "awa@example.org", "language": "zh-CN"}),
    signature(supporter={"name": "Awa", "email": "awa@example.org", "language": "xx-YY"}),
    signature(supporter={"name": "Awa", "email": "awa@example.org", "age": 3}),
    signature(supporter={"name": "Awa"}),
    signature(supporter=None),
    signature(supporter="Awa"),
    signature(consent={"share_name_with_target": 1}),
    signature(consent={"share_name_with_target": "true"}),
    signature(consent={"contact": True, "text_id": " sign-v1 "}),
    signature(consent=None),
    signature(consent={}),
    signature(count=1),
    signature(count=1.0),
    signature(count=True),
    signature(count="1"),
    signature(count=0),
    signature(type="letter", count=100_000, supporter={"country": "SN"}),
    signature(type="letter", count=100_001),
    signature(type="letter", count=2, supporter={"country": "SN"}),
    signature(type="Signature"),
    signature(type="solidarity_message", message="  Hold on  \n"),
    signature(type="solidarity_message", message="   "),
    signature(type="solidarity_message", message="Hi\x07"),
    signature(type="solidarity_message"),
    signature(occurred_at="2025-12-10T09:00:00+02:00"),
    signature(occurred_at="2025-12-10T09:00:00-00:00"),
    signature(occurred_at="2025-12-10t09:00:00z"),
    signature(occurred_at="2025-12-10 09:00:00Z"),
    signature(occurred_at="2025-12-10T09:00Z"),
    signature(occurred_at="2025-12-10T09:00:00.1234567Z"),
    signature(occurred_at="2025-12-10T09:00:00.123Z"),
    signature(occurred_at="2025-12-10T09:00:00"),
    signature(occurred_at="2025-12-10"),
    signature(occurred_at="2025-12-10T23:59:60Z"),
    signature(occurred_at="2025-12-10T09:00:00+0200"),
    signature(occurred_at="2025-12-10T09:00:00+02"),
    signature(occurred_at="2025-12-10T09:00:00+23:59"),
    signature(occurred_at="1999-12-31T23:59:59Z"),
    signature(occurred_at="2030-01-01T00:00:00Z"),
    signature(occurred_at=1765357200),
    signature(occurred_at="1765357200"),
    signature(tracking={"utm_source": " news ", "referrer": "https://a.org/"}),
    signature(tracking={"utm_source": "x" * 201}),
    signature(tracking={}),
    signature(tracking={"utm_term": "x"}),
    signature(channel="web"),
    signature(heartbeat=True),
]


@pytest.mark.parametrize("body", ODD)
def test_odd_bodies_get_pydantics_outcome(body: dict[str, Any]) -> None:
    assert_same_outcome(json.dumps(body).encode())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"case_id": "nobody", "case_id": "sonia-dahmani", "type": "tweet"}',
        b'{"case_id": "sonia-dahmani", "type": "tweet", "type": "letter"}',
        b'{"case_id": "sonia-dahmani", "type": "tweet"} ',
        b'{"case_id": "sonia-dahmani", "type": "tweet"}x',
        b'{"case_id": "sonia-dahmani", "type": "tweet", "count": NaN}',
        b'{"case_id": "sonia-dahmani", "type": "tweet", "count": 1e400}',
        b'{"case_id": "sonia-dahmani", "type": "tweet", "count": 1E0}',
        b'{"case_id": "sonia-dahmani\\ud800", "type": "tweet"}',
        b'{"case_id": "sonia-dahmani\xff", "type": "tweet"}',
        b'\xef\xbb\xbf{"case_id": "sonia-dahmani", "type": "tweet"}',
        b'{"case_id": "sonia-\\u0064ahmani", "type": "tweet"}',
        b"[]",
        b"null",
        b"",
    ],
)
def test_odd_texts_get_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


def test_the_well_formed_actions_take_the_fast_path() -> None:
    """Else the tests above would hold for want of trying."""
    for body in (signature(), EXAMPLE, intake_bench.action(3), ODD[15], ODD[24]):
        assert fast_model.parse_action(orjson.dumps(body), rules()) is not None, body
    many = orjson.dumps({"actions": [intake_bench.action(n) for n in range(50)]})
    assert fast_model.parse_batch(many, rules()) is not None


def test_a_bad_body_is_answered_by_pydantic() -> None:
    body = orjson.dumps(signature(supporter={"name": "=x", "email": "a@b.org"}, count=0))
    with pytest.raises(Refusal) as refused:
        parse_action(body, rules())
    codes = [(e["field"], e["code"]) for e in refused.value.extra["errors"]]
    assert codes == [("supporter.name", "formula_start"), ("count", "greater_than_equal")]


def test_a_batch_with_one_bad_item_is_told_item_by_item() -> None:
    body = orjson.dumps({"actions": [signature(), signature(count=0), signature()]})
    assert fast_model.parse_batch(body, rules()) is None
    items = batch.read_with_pydantic(body, rules())
    assert [isinstance(item, list) for item in items] == [False, True, False]


texts = st.sampled_from(
    ["sonia-dahmani", " sonia-dahmani", "closed-case", "", "Awa Diallo", "a@b.org", "=x"]
) | st.text(max_size=12)
scalars = st.none() | st.booleans() | st.integers(-2, 100_001) | st.floats() | texts
times = st.sampled_from(
    [
        "2025-12-10T09:00:00Z",
        "2025-12-10T09:00:00.5+05:30",
        "2025-12-10T09:00:00.000001-01:00",
        "2025-12-10T12:04:59Z",
        "2025-12-10T12:05:01Z",
        "2025-12-10T09:00:00",
        "2025-12-10T09:00:00.1234567Z",
    ]
) | st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda moment: moment.isoformat() + "Z"
)
supporters = st.fixed_dictionaries(
    {},
    optional={
        "name": texts | scalars,
        "email": st.sampled_from(["awa@example.org", " A@Example.org", "x@", "a@b"]) | scalars,
        "country": st.sampled_from(["SN", "sn", " fr", "XX", "ZZ"]) | scalars,
        "language": st.sampled_from(["fr", "FR-sn", "zh-CN", "xx", "de-CH-1996"]) | scalars,
        "nickname": texts,
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "action_id": st.uuids().map(str) | st.uuids().map(lambda u: u.hex) | scalars,
        "case_id": texts | scalars,
        "type": st.sampled_from(["signature", "letter", "tweet", "solidarity_message"]) | texts,
        "supporter": supporters | scalars,
        "consent": st.fixed_dictionaries(
            {},
            optional={
                "share_name_with_target": st.booleans() | scalars,
                "contact": st.booleans() | scalars,
                "text_id": texts | scalars,
            },
        )
        | scalars,
        "message": texts | scalars,
        "count": st.integers(0, 100_001) | scalars,
        "occurred_at": times | scalars,
        "tracking": st.fixed_dictionaries(
            {}, optional={"utm_source": texts | scalars, "referrer": texts}
        )
        | scalars,
        "source": texts,
    },
)


@settings(max_examples=800, deadline=None)
@given(bodies)
def test_any_body_gets_pydantics_outcome(body: dict[str, Any]) -> None:
    assert_same_outcome(json.dumps(body).encode())


@settings(max_examples=200, deadline=None)
@given(st.lists(bodies | st.just(signature()), min_size=0, max_size=4))
def test_any_batch_gets_pydantics_outcome(items: list[dict[str, Any]]) -> None:
    body = json.dumps({"actions": items}).encode()
    fast = fast_model.parse_batch(body, rules())
    if fast is None:
        return
    slow = BatchIn.model_validate_json(body, context=rules()).actions  # raises: a bug
    assert [values(a) for a in fast] == [values(a) for a in slow]
    assert [written(a) for a in fast] == [written(a) for a in slow]
    assert all(isinstance(a, FastAction) for a in fast)
