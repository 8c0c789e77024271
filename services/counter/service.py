"""Use cases of the counter, written against the ports: count a batch, invalidate
actions, recount from the ledger. Each runs inside one transaction of the caller; the
store's counting lock keeps batches (shared) and corrections (alone) apart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.counter.domain.lookups import ActionLookup, look_up
from services.counter.domain.milestones import no_longer_reached, reached
from services.counter.domain.model import (
    CountedFacts,
    LedgerEntry,
    Tally,
    entry_of,
    first_of_each_action,
    identity_of,
    tally,
)
from services.counter.domain.ports import (
    Catalogue,
    CountingStore,
    Invalidation,
    Ledger,
    Milestones,
    Totals,
)
from shared.action_ids import conflicting

# case id -> (campaign id, milestones), or None for a case the catalogue does not know
CampaignOf = Callable[[str], tuple[str, list[int]] | None]


def campaign_of(catalogue: Catalogue) -> CampaignOf:
    def lookup(case_id: str) -> tuple[str, list[int]] | None:
        record = catalogue.get(case_id)
        return (record.campaign_id, record.milestones) if record else None

    return lookup


def no_campaigns(_: str) -> None:
    """For a correction that announces no milestone (the next batch of the case does)."""


@dataclass
class Outcome:
    counted: list[LedgerEntry] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # new total of each changed case
    reached: dict[str, list[int]] = field(default_factory=dict)
    retracted: dict[str, list[int]] = field(default_factory=dict)
    # indexes (in the entries given) of actions under an id an earlier, different action owns
    conflicting: list[int] = field(default_factory=list)


@dataclass
class BatchReport:
    """What the last batch did; read after its transaction committed."""

    outcome: Outcome = field(default_factory=Outcome)
    # when intake accepted what this batch made readable: new counts and heartbeats
    # (a replayed action was readable long ago and says nothing about freshness)
    fresh: list[datetime] = field(default_factory=list)
    newest: datetime | None = None  # newest action of the batch, counted or not
    heartbeats: int = 0
    conflicts: int = 0  # records refused: their action_id belongs to a different action
    traced: list[CountedFacts] = field(default_factory=list)  # heartbeats; all at DEBUG


async def count_batch(
    store: CountingStore,
    events: Sequence[CountedFacts],
    entries: Sequence[LedgerEntry],
    campaign_of: CampaignOf,
    trace_all: bool = False,
) -> BatchReport:
    """Count a consumed batch while sharing the counting lock. `entries` are the countable
    `events` (heartbeats count nothing), made by `countable` as each record was decoded,
    off the database's time; `outcome.conflicting` indexes them."""
    await store.lock.share()
    outcome = await count_actions(
        store.ledger, store.totals, store.milestones, entries, campaign_of
    )
    heartbeats = [e.accepted_at for e in events if e.heartbeat]
    return BatchReport(
        outcome=outcome,
        fresh=[e.accepted_at for e in outcome.counted] + heartbeats,
        newest=max((e.accepted_at for e in events), default=None),
        heartbeats=len(heartbeats),
        conflicts=len(outcome.conflicting),
        traced=list(events) if trace_all else [e for e in events if e.heartbeat],
    )


async def invalidate_alone(store: CountingStore, criteria: Invalidation) -> Outcome:
    """`invalidate`, with no batch committing meanwhile."""
    await store.lock.alone()
    return await invalidate(store.ledger, store.totals, store.milestones, criteria)


async def recount_alone(
    store: CountingStore, case_id: str | None, campaign_of: CampaignOf, repair: bool
) -> tuple[Tally, Outcome]:
    """`recount`, with no batch committing between reading the ledger and the totals."""
    await store.lock.alone()
    return await recount(store.ledger, store.totals, store.milestones, case_id, campaign_of, repair)


def countable(event: CountedFacts) -> LedgerEntry | None:
    """What the ledger would keep of an action; None for a heartbeat (it never counts)."""
    return None if event.heartbeat else entry_of(event)


async def count_actions(
    ledger: Ledger,
    totals: Totals,
    milestones: Milestones,
    entries: Sequence[LedgerEntry],
    campaign_of: CampaignOf,
) -> Outcome:
    """Count the entries not counted before; one update per case and breakdown row;
    record each milestone the new totals reach for the first time; tell the entries that
    reuse the id of a different action (shared.action_ids)."""
    unique = first_of_each_action(entries)
    recording = asyncio.ensure_future(ledger.record(unique))
    await asyncio.sleep(0)  # the ledger sends its statement before the CPU work below
    try:
        if_all_new = tally(unique)  # nearly always right: replays are rare
    except BaseException:
        # a value tally cannot take (a date out of range): the statement must end
        # before the caller's transaction rolls back on this connection
        await asyncio.gather(recording, return_exceptions=True)
        raise
    new = await recording
    outcome = Outcome(counted=new)
    if len(new) < len(unique):  # second signatures (or replays, or conflicts)
        recorded = {e.action_id for e in new}
        await ledger.keep_duplicates(
            [e for e in unique if e.supporter_key and e.action_id not in recorded]
        )
    if len(new) < len(entries):  # replays, second signatures, or conflicts
        _, outcome.conflicting = await conflicting(
            [e.action_id for e in entries],
            {e.action_id for e in new},
            lambda i: identity_of(entries[i]),
            ledger.identities,
        )
    delta = if_all_new if len(new) == len(unique) else tally(new)
    if delta.is_empty():
        return outcome
    outcome.totals = await totals.add(delta)
    outcome.reached = await _reach(milestones, outcome.totals, campaign_of)
    return outcome


async def invalidate(
    ledger: Ledger, totals: Totals, milestones: Milestones, criteria: Invalidation
) -> Outcome:
    """Stop counting the matching actions; lower the totals; forget milestones that the
    corrected totals no longer reach."""
    removed = await ledger.invalidate(criteria)
    outcome = Outcome(counted=removed)
    delta = tally(removed, sign=-1)
    if delta.is_empty():
        return outcome
    outcome.totals = await totals.add(delta)
    outcome.retracted = await _retract(milestones, outcome.totals)
    return outcome


async def recount(
    ledger: Ledger,
    totals: Totals,
    milestones: Milestones,
    case_id: str | None,
    campaign_of: CampaignOf,
    repair: bool,
) -> tuple[Tally, Outcome]:
    """The drift (what the ledger says minus what the totals hold) and, when repairing,
    the totals corrected by exactly that drift."""
    drift = (await ledger.live_tally(case_id)).minus(await totals.stored_tally(case_id))
    outcome = Outcome()
    if repair and not drift.is_empty():
        drift.totals.update({case: drift.totals.get(case, 0) for case in drift.cases()})
        outcome.totals = await totals.add(drift)
        outcome.retracted = await _retract(milestones, outcome.totals)
        outcome.reached = await _reach(milestones, outcome.totals, campaign_of)
    return drift, outcome


async def look_up_action(ledger: Ledger, action_id: UUID, key_name: str) -> ActionLookup:
    """What became of `action_id`, as the key named `key_name` may know it."""
    return look_up(action_id, await ledger.seen(action_id), key_name)


async def _reach(
    milestones: Milestones, new_totals: dict[str, int], campaign_of: CampaignOf
) -> dict[str, list[int]]:
    result = {}
    for case, total in sorted(new_totals.items()):
        campaign = campaign_of(case)
        if campaign is None:
            continue
        campaign_id, marks = campaign
        got = await milestones.reach(case, campaign_id, reached(total, marks), total)
        if got:
            result[case] = got
    return result


async def _retract(milestones: Milestones, new_totals: dict[str, int]) -> dict[str, list[int]]:
    result = {}
    for case, total in sorted(new_totals.items()):
        gone = await milestones.retract_above(case, total)
        if gone:
            result[case] = no_longer_reached(total, gone)
    return result
