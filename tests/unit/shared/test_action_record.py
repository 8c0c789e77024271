"""Intake writes actions as ActionRecord (msgspec) while every reader validates them as
ActionEvent (pydantic, the contract): the two must hold the same fields, and a record
must be written byte for byte as pydantic writes its event (`shared.kafka.encode`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.action_record import (
    ActionRecord,
    TrackingRecord,
    encode_record,
    event_of,
    record_of,
)
from shared.contracts.actions import ActionEvent, ActionType, Channel, Tracking
from shared.kafka import encode

pytestmark = pytest.mark.unit


def _record_fields(struct: type[msgspec.Struct]) -> list[tuple[str, Any]]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return [
        (f.name, None if f.default is msgspec.NODEFAULT else ("default", f.default))
        for f in info.fields
    ]


def _model_fields(model: type[ActionEvent] | type[Tracking]) -> list[tuple[str, Any]]:
    # A default other than None is always written by pydantic: the record has none.
    return [
        (name, ("default", None) if field.default is None else None)
        for name, field in model.model_fields.items()
    ]


def test_the_record_has_the_events_fields_in_its_order() -> None:
    assert _record_fields(ActionRecord) == _model_fields(ActionEvent)
    assert _record_fields(TrackingRecord) == _model_fields(Tracking)


texts = st.text(max_size=30)
optional_texts = st.none() | texts
times = st.datetimes(
    min_value=datetime(2000, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])
) | st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(timezone(timedelta(0))))
trackings = st.none() | st.builds(
    Tracking,
    utm_source=optional_texts,
    utm_medium=optional_texts,
    utm_campaign=optional_texts,
    referrer=optional_texts,
)
events = st.builds(
    ActionEvent,
    action_id=st.uuids(),
    case_id=texts,
    type=st.sampled_from(ActionType),
    count=st.integers(1, 100_000),
    channel=st.sampled_from(Channel),
    country=st.text(min_size=2, max_size=2),
    supporter_key=optional_texts,
    supporter_name=optional_texts,
    supporter_email=optional_texts,
    share_name_with_target=st.booleans(),
    contact=st.booleans(),
    message=optional_texts,
    language=optional_texts,
    tracking=trackings,
    sealed=optional_texts,
    consent_text_id=optional_texts,
    occurred_at=times,
    accepted_at=times,
    source=texts,
    request_id=optional_texts,
    heartbeat=st.booleans(),
    network_hash=optional_texts,
    email_domain_hash=optional_texts,
    disposable_email=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_a_record_is_written_as_pydantic_writes_its_event(event: ActionEvent) -> None:
    record = record_of(event)
    assert encode_record(record) == encode(event)
    assert event_of(record) == event
    assert record.kafka_key() == event.kafka_key()


def test_a_time_on_the_hour_and_an_offset_are_written_alike() -> None:
    base = ActionEvent(
        action_id="2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11",
        case_id="sonia-dahmani",
        type=ActionType.SIGNATURE,
        count=1,
        channel=Channel.WEB,
        occurred_at=datetime(2025, 12, 10, 9, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        accepted_at=datetime(2025, 12, 10, 9, 0, 0, 5, tzinfo=UTC),
        source="anonymous",
    )
    assert encode_record(record_of(base)) == encode(base)
