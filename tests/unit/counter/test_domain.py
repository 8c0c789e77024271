"""Pure rules: ledger entries, tallies, milestones, decoding, rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord

from services.counter.domain.milestones import no_longer_reached, reached
from services.counter.domain.model import entry_of, first_of_each_action, history_of, tally
from services.counter.entrypoints.consumer import decode_action
from services.counter.entrypoints.views import timestamp
from shared.failures import describe
from shared.kafka import encode
from tests.unit.counter.builders import action, signature

pytestmark = pytest.mark.unit


def test_only_signatures_keep_the_supporter_key() -> None:
    assert entry_of(signature("case-a", "k1")).supporter_key == "k1"
    assert entry_of(action(supporter_key="k1")).supporter_key is None


def test_tally_sums_per_case_and_per_breakdown_row() -> None:
    entries = [
        entry_of(action("case-a", count=2, country="FR")),
        entry_of(action("case-a", count=3)),
        entry_of(signature("case-b", "k1")),
    ]
    result = tally(entries)
    assert result.totals == {"case-a": 5, "case-b": 1}
    assert result.rows[("case-a", "country", "FR")] == 2
    assert result.rows[("case-a", "country", "ZZ")] == 3
    assert result.rows[("case-a", "hour", "2025-12-10T09:00:00Z")] == 5
    assert result.rows[("case-b", "type", "signature")] == 1


def test_tally_names_the_source_of_each_action_web_without_a_key() -> None:
    entries = [
        entry_of(action("case-a", count=300, source="amnesty-fr")),
        entry_of(action("case-a", count=2)),  # sent without a key: "anonymous" on the topic
        entry_of(action("case-a", source="web")),
    ]
    result = tally(entries)
    assert result.rows[("case-a", "source", "amnesty-fr")] == 300
    assert result.rows[("case-a", "source", "web")] == 3
    assert ("case-a", "source", "anonymous") not in result.rows
    assert result.rows[("case-a", "hour_source", "2025-12-10T09:00:00Z amnesty-fr")] == 300
    assert len(result.rows) == 8  # one row per breakdown key, never one per action


def test_history_points_carry_their_sources() -> None:
    rows = [
        ("hour", "2025-12-10T10:00:00Z", 4),
        ("hour_source", "2025-12-10T10:00:00Z key with spaces", 3),
        ("hour_source", "2025-12-10T10:00:00Z web", 1),
        ("hour", "2025-12-10T09:00:00Z", 2),
    ]
    assert history_of(rows) == [
        ("2025-12-10T09:00:00Z", 2, {}),
        ("2025-12-10T10:00:00Z", 4, {"key with spaces": 3, "web": 1}),
    ]


def test_minus_is_what_turns_one_tally_into_another() -> None:
    big = tally([entry_of(action(count=5)), entry_of(action("case-b"))])
    small = tally([entry_of(action(count=2))])
    diff = big.minus(small)
    assert diff.totals == {"case-a": 3, "case-b": 1}
    assert big.minus(big).is_empty()


def test_repeats_of_an_action_in_a_batch_are_dropped() -> None:
    one = entry_of(action(action_id=uuid4()))
    other = entry_of(action())
    assert first_of_each_action([one, other, one]) == [one, other]


def test_milestones_reached_and_withdrawn() -> None:
    assert reached(150, [1000, 100, 10, 100]) == [10, 100]
    assert reached(9, [10]) == []
    assert no_longer_reached(50, [10, 100]) == [100]


def _record(value: bytes | None, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", value, None, 0, 0, [])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"{not json", "json_invalid"),
        (b'{"schema_version": 1}', "action_id missing"),
        (None, "empty value"),
    ],
)
def test_a_record_that_is_no_action_fails_to_decode_with_a_value_error(
    value: bytes | None, why: str
) -> None:
    """A ValueError makes the PositionedConsumer set the record aside (the dead letter
    carries describe(error))."""
    assert decode_action(_record(encode(action()))).event.count == 1
    with pytest.raises(ValueError) as caught:
        decode_action(_record(value))
    assert why in describe(caught.value)


def test_error_text_carries_no_input_values() -> None:
    raw = encode(action()).replace(b'"count":1', b'"count":"secret@example.org"')
    with pytest.raises(ValueError) as caught:
        decode_action(_record(raw))
    assert "secret@example.org" not in describe(caught.value)
    assert "count" in describe(caught.value)


def test_timestamps_render_as_the_contract_shows() -> None:
    moment = datetime(2025, 12, 10, 9, 0, 1, 250_000, tzinfo=UTC)
    assert timestamp(moment) == "2025-12-10T09:00:01.250Z"
    assert timestamp(None) is None
