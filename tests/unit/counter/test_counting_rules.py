"""The counting rules of the contract, through the count use case on in-memory ports."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.counter.domain.ports import Invalidation
from services.counter.service import Outcome, count_actions, countable, invalidate, recount
from shared.contracts.actions import ActionEvent, ActionType, Channel
from tests.unit.counter.builders import action, signature
from tests.unit.counter.fakes import FakeLedger, FakeMilestones, FakeTotals

pytestmark = pytest.mark.unit
CAMPAIGN = {"case-a": ("w4r", [10, 100])}


class Counter:
    def __init__(self) -> None:
        self.ledger, self.totals, self.milestones = FakeLedger(), FakeTotals(), FakeMilestones()

    async def count(self, *events: ActionEvent) -> Outcome:
        entries = [e for e in map(countable, events) if e]
        return await count_actions(self.ledger, self.totals, self.milestones, entries, CAMPAIGN.get)

    async def total(self, case: str) -> int:
        read = await self.totals.read([case])
        return read[case].total if case in read else 0


async def test_an_action_counts_count_times() -> None:
    counter = Counter()
    await counter.count(action(count=300, type=ActionType.LETTER, channel=Channel.EVENT))
    await counter.count(action())
    read = (await counter.totals.read(["case-a"]))["case-a"]
    assert read.total == 301
    assert read.by_channel == {"event": 300, "web": 1}


async def test_the_same_action_counts_once_within_and_across_batches() -> None:
    counter = Counter()
    same = action(action_id=uuid4(), count=2)
    await counter.count(same, same)
    await counter.count(same)
    assert await counter.total("case-a") == 2


async def test_a_signature_counts_once_per_supporter_per_case() -> None:
    counter = Counter()
    # intake derives the key from the trimmed, lower-cased email: variants share it
    await counter.count(signature("case-a", "k-awa"), signature("case-a", "k-awa"))
    await counter.count(signature("case-a", "k-awa"), signature("case-b", "k-awa"))
    await counter.count(action("case-a", supporter_key="k-awa"))  # a letter still counts
    assert (await counter.total("case-a"), await counter.total("case-b")) == (2, 1)


async def test_no_country_counts_under_zz() -> None:
    counter = Counter()
    await counter.count(action(), action(country="FR"))
    assert (await counter.totals.read(None))["case-a"].by_country == {"ZZ": 1, "FR": 1}


async def test_heartbeats_never_count() -> None:
    counter = Counter()
    outcome = await counter.count(action(heartbeat=True, count=5))
    assert outcome.counted == []
    assert await counter.total("case-a") == 0


async def test_one_update_per_case_for_a_batch() -> None:
    counter = Counter()
    await counter.count(*[action("case-a") for _ in range(50)], action("case-b"))
    assert counter.totals.revision == {"case-a": 1, "case-b": 1}


async def test_milestones_are_reached_once_and_only_for_known_cases() -> None:
    counter = Counter()
    first = await counter.count(action(count=11), action("case-b", count=500))
    assert first.reached == {"case-a": [10]}
    assert (await counter.count(action(count=1))).reached == {}
    assert (await counter.count(action(count=200))).reached == {"case-a": [100]}


async def test_invalidation_lowers_totals_and_withdraws_milestones() -> None:
    counter = Counter()
    await counter.count(action(count=20), action(count=90, source="partner-x"))
    outcome = await invalidate(
        counter.ledger, counter.totals, counter.milestones, Invalidation(source="partner-x")
    )
    assert outcome.totals == {"case-a": 20}
    assert outcome.retracted == {"case-a": [100]}
    assert list(counter.milestones.reached) == [("case-a", 10)]


async def test_recount_reports_drift_and_repairs_it() -> None:
    counter = Counter()
    await counter.count(action(count=7), action("case-b"))
    counter.totals.stored.totals["case-a"] = 3  # a broken total
    counter.totals.stored.rows[("case-b", "country", "ZZ")] = 0
    drift, _ = await recount(
        counter.ledger, counter.totals, counter.milestones, None, CAMPAIGN.get, repair=False
    )
    assert drift.totals == {"case-a": 4}
    assert drift.rows == {("case-b", "country", "ZZ"): 1}
    assert await counter.total("case-a") == 3, "a dry run changes nothing"
    await recount(counter.ledger, counter.totals, counter.milestones, None, CAMPAIGN.get, True)
    after, _ = await recount(
        counter.ledger, counter.totals, counter.milestones, None, CAMPAIGN.get, False
    )
    assert after.is_empty()
    assert await counter.total("case-a") == 7


async def test_a_later_different_action_under_a_known_id_is_told_not_counted() -> None:
    counter = Counter()
    first = signature("case-a", "key-1")
    same_batch = signature("case-b", "key-2", action_id=first.action_id)
    again = first.model_copy(update={"request_id": "retry"})
    outcome = await counter.count(first, same_batch, again)
    assert (len(outcome.counted), outcome.conflicting) == (1, [1])
    letter = action("case-a", action_id=first.action_id)  # a later batch, another type
    second_signature = signature("case-a", "key-1")  # a new id: counted once per supporter
    outcome = await counter.count(letter, again, second_signature)
    assert (outcome.counted, outcome.conflicting) == ([], [0])
    assert await counter.total("case-a") == 1 and await counter.total("case-b") == 0
