"""Pure rules: ledger entries, tallies, milestones, decoding, rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord

from services.counter.domain.milestones import no_longer_reached, reached
from services.counter.domain.model import entry_of, first_of_each_action, tally
from services.counter.entrypoints.consumer import decode_action, split_poison
from services.counter.entrypoints.views import timestamp
from shared.contracts.actions import ActionEvent
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


def decode_batch(
    records: list[ConsumerRecord[bytes, bytes]],
) -> tuple[list[ActionEvent], list[tuple[ConsumerRecord[bytes, bytes], str]]]:
    decoded, poison = split_poison([(r, decode_action(r)) for r in records])
    return [d.event for d in decoded], poison


def test_poison_records_are_separated_with_their_error() -> None:
    good = action()
    events, poison = decode_batch(
        [
            _record(encode(good)),
            _record(b"{not json", 1),
            _record(b'{"schema_version": 1}', 2),
            _record(None, 3),
        ]
    )
    assert events == [good]
    assert [(r.offset, "errors" in why or "empty" in why) for r, why in poison] == [
        (1, True),
        (2, True),
        (3, True),
    ]


def test_error_text_carries_no_input_values() -> None:
    raw = encode(action()).replace(b'"count":1', b'"count":"secret@example.org"')
    _, poison = decode_batch([_record(raw)])
    assert "secret@example.org" not in poison[0][1]


def test_timestamps_render_as_the_contract_shows() -> None:
    moment = datetime(2025, 12, 10, 9, 0, 1, 250_000, tzinfo=UTC)
    assert timestamp(moment) == "2025-12-10T09:00:01.250Z"
    assert timestamp(None) is None
