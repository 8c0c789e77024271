"""The use cases the consumer and the correction commands run, on in-memory ports: what a
batch reports, and how each holds the counting lock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.counter.domain.ports import Invalidation
from services.counter.service import (
    BatchReport,
    count_batch,
    countable,
    invalidate_alone,
    no_campaigns,
    recount_alone,
)
from shared.contracts.actions import ActionEvent
from tests.unit.counter.builders import ACCEPTED, action
from tests.unit.counter.fakes import FakeStore

pytestmark = pytest.mark.unit


async def count(
    store: FakeStore, events: list[ActionEvent], trace_all: bool = False
) -> BatchReport:
    entries = [e for e in map(countable, events) if e]
    return await count_batch(store, events, entries, no_campaigns, trace_all)


async def test_a_batch_shares_the_lock_and_reports_what_it_counted() -> None:
    store = FakeStore()
    later = ACCEPTED + timedelta(minutes=5)
    beat = action(heartbeat=True, accepted_at=later)
    first, again = action(count=3), action(count=2)
    report = await count(store, [first, beat, again, first])

    assert store.lock.held == ["shared"]
    assert [e.action_id for e in report.outcome.counted] == [first.action_id, again.action_id]
    assert report.outcome.totals == {"case-a": 5}
    assert report.heartbeats == 1
    assert report.newest == later
    assert sorted(report.fresh) == [ACCEPTED, ACCEPTED, later]  # the repeat is not fresh
    assert report.traced == [beat]  # every action only when tracing all
    assert (await count(FakeStore(), [first], trace_all=True)).traced == [first]


async def test_a_replayed_batch_counts_nothing_and_is_not_fresh() -> None:
    store = FakeStore()
    events = [action(), action()]
    await count(store, events)
    report = await count(store, events)
    assert report.outcome.counted == [] and report.fresh == []
    assert (await store.totals.read(["case-a"]))["case-a"].total == 2


async def test_corrections_hold_the_lock_alone() -> None:
    store = FakeStore()
    await count(store, [action(count=4, source="partner-x"), action()])
    outcome = await invalidate_alone(store, Invalidation(source="partner-x"))
    assert outcome.totals == {"case-a": 1}
    drift, _ = await recount_alone(store, None, no_campaigns, repair=False)
    assert drift.is_empty()
    assert store.lock.held == ["shared", "alone", "alone"]
