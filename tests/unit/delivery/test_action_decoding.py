"""Delivery decodes actions with msgspec where it can, pydantic (ActionView) being the
rule: every record, good or bad, must get pydantic's outcome (the same fields, or the
same error text in the dead-letter topic), and intake's records the fast path."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from services.delivery.entrypoints import action_view
from services.delivery.entrypoints.action_view import (
    ActionRecord,
    ActionView,
    decode_action,
    fast_path_may_differ,
)
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.failures import describe
from shared.kafka import encode

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 10, 9, 30, 15, 123456, tzinfo=UTC)


def event(**changes: Any) -> ActionEvent:
    base = ActionEvent(
        action_id=uuid4(),
        case_id="sonia-dahmani",
        type=ActionType.SIGNATURE,
        count=1,
        channel=Channel.WEB,
        country="TN",
        supporter_key="k1",
        supporter_name="Awa Diallo",
        share_name_with_target=True,
        occurred_at=NOW,
        accepted_at=NOW,
        source="anonymous",
        language="fr",
        tracking={"utm_source": "mail"},
    )
    return base.model_copy(update=changes)


def outcome(decode: typing.Callable[[bytes], BaseModel | msgspec.Struct], raw: bytes) -> Any:
    try:
        value = decode(raw)
    except ValueError as exc:
        return ("refused", describe(exc))
    fields = value.model_dump() if isinstance(value, BaseModel) else msgspec.structs.asdict(value)
    return ("kept", {name: exactly(v) for name, v in fields.items()})


def exactly(value: object) -> object:
    """A value with what equality overlooks: its type, a time's offset and text."""
    if isinstance(value, datetime):
        return (value.isoformat(), value.utcoffset())
    return (value, type(value))


def assert_same_outcome(raw: bytes) -> None:
    assert outcome(decode_action, raw) == outcome(ActionView.model_validate_json, raw)


def test_the_record_has_the_views_fields_types_and_defaults() -> None:
    hints = typing.get_type_hints(ActionRecord)
    assert hints == {name: f.annotation for name, f in ActionView.model_fields.items()}
    record_defaults = {f.name: f.default for f in msgspec.structs.fields(ActionRecord)}
    view_defaults = {n: f.default for n, f in ActionView.model_fields.items()}
    assert record_defaults == {
        n: msgspec.NODEFAULT if d is PydanticUndefined else d for n, d in view_defaults.items()
    }


@pytest.mark.parametrize(
    "action",
    [
        event(),
        event(type=ActionType.SOLIDARITY_MESSAGE, message="Courage", heartbeat=False),
        event(supporter_name=None, sealed="c2VhbGVk", consent_text_id="fr-1"),
        event(occurred_at=datetime(2026, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))),
        event(type=ActionType.LETTER, count=25, channel=Channel.EVENT, request_id="r-1"),
    ],
)
def test_intakes_records_take_the_fast_path_with_pydantics_values(action: ActionEvent) -> None:
    raw = encode(action)
    assert not fast_path_may_differ(raw)
    assert msgspec.json.decode(raw, type=ActionRecord) == decode_action(raw)
    assert_same_outcome(raw)


VALID = encode(event()).decode()
ODD = [
    b"{not json",
    b"",
    b"null",
    b"[]",
    VALID.replace('"count":1', '"count":"1"').encode(),  # lax: pydantic accepts
    VALID.replace('"count":1', '"count":1.0').encode(),
    VALID.replace('"count":1', '"count":true').encode(),
    VALID.replace('"count":1', '"count":123456789012345678901234567890').encode(),
    VALID.replace('"share_name_with_target":true', '"share_name_with_target":"yes"').encode(),
    VALID.replace('"schema_version":1', '"schema_version":2').encode(),
    VALID.replace('"type":"signature"', '"type":"Signature"').encode(),
    VALID.replace('.123456Z"', '.1234567Z"').encode(),  # pydantic drops the 7th digit
    VALID.replace('.123456Z"', '.9999999Z"').encode(),  # msgspec would round up a second
    VALID.replace('.123456Z"', '"').encode(),  # a naive time
    VALID.replace(':15.123456Z"', 'Z"').encode(),  # no seconds: pydantic accepts
    VALID.replace("T09:30", " 09:30").encode(),
    VALID.replace("2026-12-10", "0001-01-01").replace("Z", "+01:00").encode(),
    VALID.replace('"case_id":"sonia-dahmani"', '"case_id":"a","case_id":"b"').encode(),
    VALID.replace('"language":"fr"', '"language":"\xff"').encode("latin-1"),  # bad UTF-8
    VALID.replace('"language":"fr"', '"language":"\\ud800"').encode(),
    VALID.replace('"language":"fr"', '"language":NaN').encode(),
    VALID.replace('"language":"fr"', '"deep":' + "[" * 300 + "]" * 300).encode(),
    VALID.replace('"supporter_name":"Awa Diallo"', '"supporter_name":"a\\u0000b"').encode(),
    VALID.replace('"supporter_name":"Awa Diallo"', '"supporter_name":null').encode(),
    VALID.replace('"country":"TN"', '"country":null').encode(),
    VALID.replace(f'"action_id":"{json.loads(VALID)["action_id"]}"', '"action_id":"x"').encode(),
]


@pytest.mark.parametrize("raw", ODD, ids=range(len(ODD)))
def test_odd_and_bad_records_get_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


def times() -> st.SearchStrategy[object]:
    moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
    separators = st.sampled_from(["T", "t", " ", "_"])
    fractions = st.text("0123456789", max_size=9).map(lambda f: f".{f}" if f else "")
    offsets = st.sampled_from(["Z", "z", "", "+01:00", "-00:00", "+0530", "+23:59", "+24:00"])
    texts = st.builds(
        lambda m, sep, frac, off: m.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac + off,
        moments,
        separators,
        fractions,
        offsets,
    )
    return st.one_of(texts, st.integers(), st.floats(), st.text(max_size=30))


def texts() -> st.SearchStrategy[object]:
    return st.one_of(st.text(st.characters(), max_size=12), st.none(), st.integers(), st.booleans())


def uuids() -> st.SearchStrategy[object]:
    canonical = st.uuids().map(str)
    return st.one_of(canonical, st.uuids().map(lambda u: u.hex), st.uuids().map(u_urn), texts())


def u_urn(u: object) -> str:
    return f"urn:uuid:{u}"


FIELDS: dict[str, st.SearchStrategy[object]] = {
    "schema_version": st.sampled_from([1, 2, "1", 1.0, True, None]),
    "action_id": uuids(),
    "case_id": texts(),
    "type": st.one_of(st.sampled_from([*ActionType, "SIGNATURE"]), texts()),
    "count": st.one_of(st.integers(), st.floats(), st.sampled_from(["1", True, None])),
    "channel": st.one_of(st.sampled_from([*Channel]), texts()),
    "country": texts(),
    "supporter_key": texts(),
    "supporter_name": texts(),
    "share_name_with_target": st.sampled_from([True, False, "true", 1, 0, None, "no"]),
    "message": texts(),
    "sealed": texts(),
    "occurred_at": times(),
    "accepted_at": st.one_of(times(), st.none()),
    "source": texts(),
    "heartbeat": st.sampled_from([True, False, 1, None]),
    "extra": st.recursive(st.none() | st.integers() | st.text(), st.lists, max_leaves=5),
}


@st.composite
def records(draw: st.DrawFn) -> bytes:
    base = msgspec.structs.asdict(decode_action(VALID.encode()))
    chosen = {name: value for name, value in json.loads(VALID).items() if name in base}
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)))):
        chosen[name] = draw(FIELDS[name])
    for name in draw(st.sets(st.sampled_from(sorted(chosen)), max_size=2)):
        del chosen[name]
    text = json.dumps(chosen, ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # a byte changed somewhere
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


@settings(max_examples=600, deadline=None)
@given(records())
def test_any_record_gets_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


def test_the_slow_path_is_pydantics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fast path, the same records decode the same (a mutant check)."""
    monkeypatch.setattr(action_view, "fast_path_may_differ", lambda raw: True)
    for raw in [encode(event()), *ODD]:
        assert_same_outcome(raw)
