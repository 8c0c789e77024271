"""What the differential tests of a fast decoder (msgspec) against its rule (pydantic) share:
the outcome of decoding a record, the odd records every such decoder must get right, and
records drawn at random around a valid one (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.failures import describe

Decoder = Callable[[bytes], BaseModel | msgspec.Struct]
NOW = datetime(2026, 12, 10, 9, 30, 15, 123456, tzinfo=UTC)


def action_event(**changes: Any) -> ActionEvent:
    """A signature as intake writes it (every field a reader may read set), with `changes`;
    its JSON is what `odd_records` expects of a valid record."""
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
        network_hash="n1",
        email_domain_hash="d1",
    )
    return base.model_copy(update=changes)


def outcome(decode: Decoder, raw: bytes) -> Any:
    try:
        value = decode(raw)
    except ValueError as exc:
        return ("refused", describe(exc))
    return ("kept", fields_of(value))


def fields_of(value: BaseModel | msgspec.Struct) -> dict[str, object]:
    fields = dict(value) if isinstance(value, BaseModel) else msgspec.structs.asdict(value)
    return {name: exactly(v) for name, v in fields.items()}


def exactly(value: object) -> object:
    """A value with what equality overlooks: its type, a time's offset and text; a nested
    model or struct as its fields."""
    if isinstance(value, datetime):
        return (value.isoformat(), value.utcoffset())
    if isinstance(value, BaseModel | msgspec.Struct):
        return fields_of(value)
    return (value, type(value))


def defaults_of_struct(struct: type[msgspec.Struct]) -> dict[str, object]:
    return {f.name: f.default for f in msgspec.structs.fields(struct)}


def defaults_of_model(model: type[BaseModel]) -> dict[str, object]:
    """The model's field defaults as a struct's read: NODEFAULT where it has none."""
    return {
        name: msgspec.NODEFAULT if f.default is PydanticUndefined else f.default
        for name, f in model.model_fields.items()
    }


def odd_records(valid: str) -> list[bytes]:
    """Records a fast decoder could read otherwise than pydantic, made from `valid` (an
    action's JSON with count 1, a name shared, language "fr", times at .123456Z)."""
    action_id = json.loads(valid)["action_id"]
    return [
        b"{not json",
        b"",
        b"null",
        b"[]",
        valid.replace('"count":1', '"count":"1"').encode(),  # lax: pydantic accepts
        valid.replace('"count":1', '"count":1.0').encode(),
        valid.replace('"count":1', '"count":true').encode(),
        valid.replace('"count":1', '"count":123456789012345678901234567890').encode(),
        valid.replace('"share_name_with_target":true', '"share_name_with_target":"yes"').encode(),
        valid.replace('"schema_version":1', '"schema_version":2').encode(),
        valid.replace('"type":"signature"', '"type":"Signature"').encode(),
        valid.replace('.123456Z"', '.1234567Z"').encode(),  # pydantic drops the 7th digit
        valid.replace('.123456Z"', '.9999999Z"').encode(),  # msgspec would round up a second
        valid.replace('.123456Z"', '"').encode(),  # a naive time
        valid.replace(':15.123456Z"', 'Z"').encode(),  # no seconds: pydantic accepts
        valid.replace("T09:30", " 09:30").encode(),
        valid.replace("2026-12-10", "0001-01-01").replace("Z", "+01:00").encode(),
        valid.replace('"case_id":"sonia-dahmani"', '"case_id":"a","case_id":"b"').encode(),
        valid.replace('"language":"fr"', '"language":"\xff"').encode("latin-1"),  # bad UTF-8
        valid.replace('"language":"fr"', '"language":"\\ud800"').encode(),
        valid.replace('"language":"fr"', '"language":NaN').encode(),
        valid.replace('"language":"fr"', '"deep":' + "[" * 300 + "]" * 300).encode(),
        valid.replace('"supporter_name":"Awa Diallo"', '"supporter_name":"a\\u0000b"').encode(),
        valid.replace('"supporter_name":"Awa Diallo"', '"supporter_name":null').encode(),
        valid.replace('"country":"TN"', '"country":null').encode(),
        valid.replace(f'"action_id":"{action_id}"', '"action_id":"x"').encode(),
    ]


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
def records(
    draw: st.DrawFn,
    valid: str,
    known: Collection[str],
    fields: dict[str, st.SearchStrategy[object]] = FIELDS,
) -> bytes:
    """`valid`'s `known` fields, some of them drawn from `fields` instead, up to two left
    out, and sometimes one byte changed."""
    chosen = {name: value for name, value in json.loads(valid).items() if name in known}
    for name in draw(st.sets(st.sampled_from(sorted(fields)))):
        chosen[name] = draw(fields[name])
    for name in draw(st.sets(st.sampled_from(sorted(chosen)), max_size=2)):
        del chosen[name]
    text = json.dumps(chosen, ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # a byte changed somewhere
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw
