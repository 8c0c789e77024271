"""The bookkeeping of PositionedConsumer's lanes: partitions spread over the lanes and
kept there until forgotten; unsettled records counted down to settled; a lane's inbox
merging what arrives while the lane is busy, in order, up to its limit."""

from __future__ import annotations

import asyncio

from shared.consumer_lanes import Inbox, LaneMap, Unsettled


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
    assert work.add(3) is True, "the first since all settled"
    assert work.add() is False
    assert not work.settled.is_set()
    assert work.done(2) is False
    assert not work.settled.is_set()
    assert work.done(2) is True
    assert work.settled.is_set()


def test_reset_settles_whatever_was_counted() -> None:
    work = Unsettled()
    work.add()
    work.add()
    work.reset()
    assert work.settled.is_set()
    assert work.add() is True


async def turns(n: int = 5) -> None:
    """Let the other tasks take their next steps (no time passes)."""
    for _ in range(n):
        await asyncio.sleep(0)


async def test_what_arrives_while_the_lane_is_busy_joins_one_chunk_in_order() -> None:
    inbox: Inbox[int] = Inbox(limit=100)
    await inbox.put([1, 2])
    await inbox.put([3])
    assert await inbox.take() == [1, 2, 3]
    await inbox.put([4])
    assert await inbox.take() == [4]


async def test_put_waits_while_the_waiting_chunk_is_full_until_the_lane_takes_it() -> None:
    inbox: Inbox[int] = Inbox(limit=3)
    await inbox.put([1, 2, 3])
    late = asyncio.ensure_future(inbox.put([4]))
    await turns()
    assert not late.done(), "the chunk waiting holds `limit` items"
    assert await inbox.take() == [1, 2, 3]
    await late
    assert await inbox.take() == [4]


async def test_take_waits_for_items_and_after_close_returns_what_waits_then_none() -> None:
    inbox: Inbox[int] = Inbox(limit=10)
    taking = asyncio.ensure_future(inbox.take())
    await turns()
    assert not taking.done()
    await inbox.put([7])
    assert await taking == [7]
    await inbox.put([8, 9])
    inbox.close()
    assert await inbox.take() == [8, 9]
    assert await inbox.take() is None
    assert await inbox.take() is None
