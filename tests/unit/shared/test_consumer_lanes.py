"""The bookkeeping of PositionedConsumer's lanes: partitions spread over the lanes and
kept there until forgotten; unsettled work counted down to settled."""

from __future__ import annotations

from shared.consumer_lanes import LaneMap, Unsettled


def test_partitions_spread_over_the_lanes_and_stay_there() -> None:
    lanes = LaneMap(3)
    first = [lanes.lane_of(p) for p in range(6)]
    assert sorted(first) == [0, 0, 1, 1, 2, 2]
    assert [lanes.lane_of(p) for p in reversed(range(6))] == list(reversed(first))


def test_forgotten_partitions_are_spread_again_from_empty_lanes() -> None:
    lanes = LaneMap(2)
    for p in (5, 6, 7):
        lanes.lane_of(p)
    lanes.forget()
    assert [lanes.lane_of(p) for p in (7, 8)] == [0, 1]


def test_unsettled_counts_down_to_settled() -> None:
    work = Unsettled()
    assert work.settled.is_set()
    assert work.add() is True, "the first since all settled"
    assert work.add() is False
    assert not work.settled.is_set()
    assert work.done() is False
    assert not work.settled.is_set()
    assert work.done() is True
    assert work.settled.is_set()


def test_reset_settles_whatever_was_counted() -> None:
    work = Unsettled()
    work.add()
    work.add()
    work.reset()
    assert work.settled.is_set()
    assert work.add() is True
