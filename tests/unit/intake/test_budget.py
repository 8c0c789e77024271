"""The byte budget of batch bodies: room per key and in all, a queue with a deadline."""

from __future__ import annotations

import asyncio

import pytest

from services.intake.entrypoints.budget import ByteBudget, NoRoom
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


async def state(budget: ByteBudget) -> tuple[int, int]:
    return budget.used, budget.waiting


async def holding(budget: ByteBudget, owner: str, size: int, release: asyncio.Event) -> None:
    async with budget.hold(owner, size, wait_s=5):
        await release.wait()


async def test_a_batch_waits_for_room_and_goes_when_it_is_freed() -> None:
    budget, release = ByteBudget(total=10, per_owner=6), asyncio.Event()
    first = asyncio.create_task(holding(budget, "a", 5, release))
    await wait_until(lambda: state(budget), lambda s: s == (5, 0), within=1)
    second = asyncio.create_task(holding(budget, "a", 5, asyncio.Event()))
    await wait_until(lambda: state(budget), lambda s: s == (5, 1), within=1)  # a's share: 6
    release.set()
    await first
    await wait_until(lambda: state(budget), lambda s: s == (5, 0), within=1)  # second holds
    second.cancel()


async def test_past_the_wait_no_room_says_whose_share_is_full() -> None:
    budget, release = ByteBudget(total=10, per_owner=6), asyncio.Event()
    held = [asyncio.create_task(holding(budget, o, 5, release)) for o in ("a", "b")]
    await wait_until(lambda: state(budget), lambda s: s == (10, 0), within=1)
    with pytest.raises(NoRoom) as own:
        async with budget.hold("a", 2, wait_s=0.05):
            pass
    assert own.value.owner_full  # a holds 5 of its 6
    with pytest.raises(NoRoom) as total:
        async with budget.hold("c", 2, wait_s=0.05):
            pass
    assert not total.value.owner_full
    release.set()
    await asyncio.gather(*held)
    assert (budget.used, budget.waiting, dict(budget.by_owner)) == (0, 0, {})


async def test_a_request_larger_than_a_share_asks_only_for_the_share() -> None:
    budget = ByteBudget(total=10, per_owner=4)
    async with budget.hold("a", 100, wait_s=0.05):
        assert budget.used == 4
