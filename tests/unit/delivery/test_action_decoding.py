"""Delivery decodes actions with msgspec where it can, pydantic (ActionView) being the
rule: every record, good or bad, must get pydantic's outcome (the same fields, or the
same error text in the dead-letter topic), and intake's records the fast path."""

from __future__ import annotations

import typing
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given, settings

from services.delivery.entrypoints import action_view
from services.delivery.entrypoints.action_view import (
    ActionRecord,
    ActionView,
    decode_action,
    fast_path_may_differ,
)
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.kafka import encode
from tests.unit.shared.decoding_outcomes import (
    action_event,
    defaults_of_model,
    defaults_of_struct,
    odd_records,
    outcome,
    records,
)

pytestmark = pytest.mark.unit
event = action_event


def assert_same_outcome(raw: bytes) -> None:
    assert outcome(decode_action, raw) == outcome(ActionView.model_validate_json, raw)


def test_the_record_has_the_views_fields_types_and_defaults() -> None:
    hints = typing.get_type_hints(ActionRecord)
    assert hints == {name: f.annotation for name, f in ActionView.model_fields.items()}
    assert defaults_of_struct(ActionRecord) == defaults_of_model(ActionView)


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
ODD = odd_records(VALID)


@pytest.mark.parametrize("raw", ODD, ids=range(len(ODD)))
def test_odd_and_bad_records_get_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


@settings(max_examples=600, deadline=None)
@given(records(VALID, ActionView.model_fields))
def test_any_record_gets_pydantics_outcome(raw: bytes) -> None:
    assert_same_outcome(raw)


def test_the_slow_path_is_pydantics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fast path, the same records decode the same (a mutant check)."""
    monkeypatch.setattr(action_view, "fast_path_may_differ", lambda raw: True)
    for raw in [encode(event()), *ODD]:
        assert_same_outcome(raw)
