"""What a partner is told of one action (domain/lookups.py), and the duplicates a batch
keeps for it to tell."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.counter.domain.lookups import Seen, Status, look_up
from services.counter.domain.model import entry_of
from services.counter.domain.ports import Invalidation
from services.counter.service import count_actions, invalidate, look_up_action, no_campaigns
from tests.unit.counter.builders import action, signature
from tests.unit.counter.fakes import FakeStore

pytestmark = pytest.mark.unit
AT = datetime(2025, 12, 10, 9, 0, tzinfo=UTC)


def test_the_sender_is_told_each_status() -> None:
    action_id = uuid4()
    counted = look_up(action_id, Seen("case-a", "amnesty-fr", AT), "amnesty-fr")
    assert counted == (action_id, "case-a", Status.COUNTED, AT)
    invalidated = Seen("case-a", "amnesty-fr", AT, invalidated=True)
    assert look_up(action_id, invalidated, "amnesty-fr").status is Status.INVALIDATED
    duplicate = Seen("case-a", "amnesty-fr", None, duplicate=True)
    assert look_up(action_id, duplicate, "amnesty-fr") == (
        action_id,
        "case-a",
        Status.DUPLICATE,
        None,
    )


@pytest.mark.parametrize(
    ("seen", "key_name"),
    [
        (None, "amnesty-fr"),  # never seen
        (Seen("case-a", "amnesty-es", AT), "amnesty-fr"),  # another key's
        (Seen("case-a", "amnesty-es", None, duplicate=True), "amnesty-fr"),
        (Seen("case-a", "anonymous", AT), "anonymous"),  # sent without a key
    ],
)
def test_what_is_not_the_callers_reads_as_never_seen(seen: Seen | None, key_name: str) -> None:
    action_id = uuid4()
    assert look_up(action_id, seen, key_name) == (action_id, None, Status.UNKNOWN, None)


async def test_a_second_signature_is_kept_as_a_duplicate_a_resent_id_is_not() -> None:
    store = FakeStore()
    first = signature("case-a", "key-1", source="p")
    second = signature("case-a", "key-1", source="p")
    letter = action(source="p")
    entries = [entry_of(e) for e in (first, second, letter, letter)]
    await count_actions(store.ledger, store.totals, store.milestones, entries, no_campaigns)
    await count_actions(
        store.ledger, store.totals, store.milestones, [entry_of(first)], no_campaigns
    )
    assert set(store.ledger.duplicates) == {second.action_id}
    statuses = [
        (await look_up_action(store.ledger, e.action_id, "p")).status
        for e in (first, second, letter)
    ]
    assert statuses == [Status.COUNTED, Status.DUPLICATE, Status.COUNTED]
    assert store.totals.stored.rows[("case-a", "source", "p")] == 2


async def test_invalidation_subtracts_from_the_source_and_its_history() -> None:
    store = FakeStore()
    entries = [entry_of(action(count=300, source="p")), entry_of(action(count=2))]
    await count_actions(store.ledger, store.totals, store.milestones, entries, no_campaigns)
    await invalidate(store.ledger, store.totals, store.milestones, Invalidation(source="p"))
    read = (await store.totals.read(["case-a"]))["case-a"]
    assert (read.total, read.by_source) == (2, {"web": 2})
    assert [p.by_source for p in await store.totals.history("case-a")] == [{"web": 2}]
