"""The counter decodes actions with msgspec where it can, pydantic (ActionEvent) being the
rule: every record, good or bad, must get pydantic's outcome (the same fields, or the same
error text in the dead-letter topic), and intake's records the fast path."""

from __future__ import annotations

import typing
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from services.counter.entrypoints import action_decoding
from services.counter.entrypoints.action_decoding import (
    CountedAction,
    decode_event,
)
from shared.contracts.action_record import TrackingRecord, encode_record, record_of
from shared.contracts.actions import ActionEvent, ActionType, Channel, Tracking
from tests.unit.shared.decoding_outcomes import (
    FIELDS,
    action_event,
    defaults_of_model,
    defaults_of_struct,
    odd_records,
    outcome,
    records,
    texts,
)

pytestmark = pytest.mark.unit
event = action_event


def assert_same_outcome(raw: bytes) -> None:
    assert outcome(decode_event, raw) == outcome(ActionEvent.model_validate_json, raw)


@pytest.mark.parametrize(
    ("struct", "model"), [(CountedAction, ActionEvent), (TrackingRecord, Tracking)]
)
def test_the_struct_has_the_models_fields_types_and_defaults(
    struct: type[msgspec.Struct], model: type[BaseModel]
) -> None:
    hints = typing.get_type_hints(struct, include_extras=True)
    assert list(hints) == list(model.model_fields)
    assert defaults_of_struct(struct) == defaults_of_model(model)


@pytest.mark.parametrize(
    "action",
    [
        event(),
        event(type=ActionType.SOLIDARITY_MESSAGE, message="Courage", heartbeat=False),
        event(supporter_name=None, sealed="c2VhbGVk", consent_text_id="fr-1", contact=True),
        event(occurred_at=datetime(2026, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))),
        event(type=ActionType.LETTER, count=100_000, channel=Channel.EVENT, request_id="r-1"),
        event(heartbeat=True, supporter_key=None, tracking=None, disposable_email=True),
    ],
)
def test_intakes_records_take_the_fast_path_with_pydantics_values(action: ActionEvent) -> None:
    for raw in (encode_record(record_of(action)), action.model_dump_json().encode()):
        assert msgspec.json.decode(raw, type=CountedAction) == decode_event(raw)
        assert_same_outcome(raw)


VALID = encode_record(record_of(event())).decode()
ODD = [
    *odd_records(VALID),
    VALID.replace('"count":1', '"count":0').encode(),
    VALID.replace('"count":1', '"count":100001').encode(),
    VALID.replace('"country":"TN"', '"country":"TUN"').encode(),
    VALID.replace('"country":"TN"', '"country":"T"').encode(),
    VALID.replace('"utm_source":"mail"', '"utm_source":"' + "m" * 201 + '"').encode(),
    VALID.replace('"utm_source":"mail"', '"utm_source":"' + "é" * 200 + '"').encode(),
    VALID.replace('"utm_source":"mail"', '"utm_source":"mail","utm_term":"x"').encode(),
    VALID.replace('"language":"fr"', '"language":"fr","unknown":1').encode(),
    VALID.replace(',"disposable_email":false', "").encode(),  # older events lack it
]


@pytest.mark.parametrize("raw", ODD, ids=range(len(ODD)))
def test_odd_and_bad_records_get_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


TRACKING = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "referrer", "utm_x"]),
        st.one_of(texts(), st.text(max_size=210, min_size=195)),
        max_size=3,
    ),
    texts(),
)
COUNTER_FIELDS = {
    **FIELDS,
    "count": st.one_of(FIELDS["count"], st.sampled_from([0, 1, 100_000, 100_001, -1])),
    "country": st.one_of(texts(), st.text(min_size=1, max_size=3)),
    "tracking": TRACKING,
    "supporter_email": texts(),
    "contact": st.sampled_from([True, False, "true", 1, None]),
    "language": texts(),
    "network_hash": texts(),
    "email_domain_hash": texts(),
    "disposable_email": st.sampled_from([True, False, 0, None, "false"]),
}


@settings(max_examples=800, deadline=None)
@given(records(VALID, ActionEvent.model_fields, COUNTER_FIELDS))
def test_any_record_gets_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


def test_the_slow_path_is_pydantics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fast path, the same records decode the same (a mutant check)."""
    monkeypatch.setattr(action_decoding, "may_differ", lambda raw: True)
    for raw in [VALID.encode(), *ODD]:
        assert_same_outcome(raw)
