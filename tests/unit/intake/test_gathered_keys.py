"""Data-key look-ups of concurrent requests gathered into one round trip at a time: each
caller gets its own keys (or the round trip's error), and a caller that stops waiting
disturbs no other."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import pytest

from services.intake.adapters.gathered_keys import GatheredDataKeys
from shared.data_keys import DataKey
from tests.unit.shared.fake_data_keys import FakeDataKeyStore
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


class HeldStore(FakeDataKeyStore):
    """The in-memory store, each round trip held until released; the look-ups of each kept."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[set[str]] = []
        self.contact_asked: list[set[str]] = []
        self.go = asyncio.Event()
        self.error: Exception | None = None

    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        self.asked.append(set(lookups))
        self.contact_asked.append(set(contact))
        await self.go.wait()
        if self.error is not None:
            raise self.error
        return await super().for_supporters(lookups, contact)


async def asked_times(store: HeldStore, times: int) -> None:
    await wait_until(lambda: asyncio.sleep(0, len(store.asked)), lambda n: n == times, within=5)


async def test_lookups_that_come_during_a_round_trip_go_together_in_the_next() -> None:
    store = HeldStore()
    gathered = GatheredDataKeys(store)
    first = asyncio.create_task(gathered.for_supporters(["a"]))
    await asked_times(store, 1)
    later = [asyncio.create_task(gathered.for_supporters([f"b{n}", "a"])) for n in range(5)]
    await asyncio.sleep(0)
    store.go.set()
    answers = [await task for task in (first, *later)]
    assert store.asked == [{"a"}, {"a", "b0", "b1", "b2", "b3", "b4"}]  # two round trips
    assert answers[0] == {"a": store.by_lookup["a"]}
    for n, answer in enumerate(answers[1:]):
        assert answer == {"a": store.by_lookup["a"], f"b{n}": store.by_lookup[f"b{n}"]}


async def test_every_caller_of_a_failed_round_trip_gets_its_error_and_the_next_asks_again() -> None:
    store = HeldStore()
    gathered = GatheredDataKeys(store)
    store.error = OSError("PostgreSQL is away")
    waiting = [asyncio.create_task(gathered.for_supporters([name])) for name in "xyz"]
    await asked_times(store, 1)
    store.go.set()
    for task in waiting:
        with pytest.raises(OSError, match="PostgreSQL is away"):
            await task
    store.error = None
    assert await gathered.for_supporters(["x"]) == {"x": store.by_lookup["x"]}


async def test_a_caller_that_stops_waiting_leaves_the_others_their_answer() -> None:
    store = HeldStore()
    gathered = GatheredDataKeys(store)
    leaving = asyncio.create_task(gathered.for_supporters(["gone"]))
    staying = asyncio.create_task(gathered.for_supporters(["here"]))
    await asked_times(store, 1)
    leaving.cancel()
    store.go.set()
    assert await staying == {"here": store.by_lookup["here"]}
    assert leaving.cancelled()


async def test_callers_waiting_when_the_look_ups_stop_are_told_the_keys_are_out_of_reach() -> None:
    store = HeldStore()
    gathered = GatheredDataKeys(store)
    asking = asyncio.create_task(gathered.for_supporters(["a"]))
    await asked_times(store, 1)
    next_round = asyncio.create_task(gathered.for_supporters(["b"]))
    await asyncio.sleep(0)
    assert gathered._asking is not None
    gathered._asking.cancel()  # intake stopping: the round trip in flight is cancelled
    for task in (asking, next_round):
        with pytest.raises(ConnectionError):  # an OSError: the sealing publisher's 503
            await task
    store.go.set()
    assert await gathered.for_supporters(["c"]) == {"c": store.by_lookup["c"]}  # asks anew


async def test_consent_to_contact_of_every_gathered_caller_reaches_the_store() -> None:
    store = HeldStore()
    gathered = GatheredDataKeys(store)
    first = asyncio.create_task(gathered.for_supporters(["a"]))
    await asked_times(store, 1)
    later = [
        asyncio.create_task(gathered.for_supporters(["b"], contact=["b"])),
        asyncio.create_task(gathered.for_supporters(["c"])),
    ]
    await asyncio.sleep(0)
    store.go.set()
    await asyncio.gather(first, *later)
    assert store.contact_asked == [set(), {"b"}]
    assert store.contact == {"b"}
