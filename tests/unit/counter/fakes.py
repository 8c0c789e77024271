"""In-memory implementations of the counter's ports, with the same semantics as the
PostgreSQL adapters (the contract suite checks both)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from services.counter.domain.lookups import Seen
from services.counter.domain.model import (
    CHANNEL,
    COUNTRY,
    HISTORY,
    SOURCE,
    TYPE,
    HourPoint,
    LedgerEntry,
    Tally,
    history_of,
    identity_of,
    tally,
)
from services.counter.domain.ports import Invalidation
from shared.action_ids import ActionIdentity
from shared.contracts.totals import CaseTotals


@dataclass
class FakeLedger:
    entries: dict[UUID, LedgerEntry] = field(default_factory=dict)
    invalidated: set[object] = field(default_factory=set)
    counted_at: dict[UUID, datetime] = field(default_factory=dict)
    duplicates: dict[UUID, LedgerEntry] = field(default_factory=dict)

    async def record(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        signed: set[tuple[str, str | None]] = {
            (e.case_id, e.supporter_key) for e in self.entries.values() if e.supporter_key
        }
        new = []
        for entry in entries:
            signature = (entry.case_id, entry.supporter_key)
            if entry.action_id in self.entries or (entry.supporter_key and signature in signed):
                continue
            self.entries[entry.action_id] = entry
            self.counted_at[entry.action_id] = datetime.now(UTC)
            if entry.supporter_key:
                signed.add(signature)
            new.append(entry)
        return new

    async def keep_duplicates(self, refused: list[LedgerEntry]) -> None:
        for entry in refused:
            if entry.action_id not in self.entries:
                self.duplicates.setdefault(entry.action_id, entry)

    async def seen(self, action_id: UUID) -> Seen | None:
        if (entry := self.entries.get(action_id)) is not None:
            invalidated = action_id in self.invalidated
            return Seen(entry.case_id, entry.source, self.counted_at[action_id], invalidated)
        if (entry := self.duplicates.get(action_id)) is not None:
            return Seen(entry.case_id, entry.source, None, duplicate=True)
        return None

    async def identities(self, action_ids: list[UUID]) -> dict[UUID, ActionIdentity]:
        return {i: identity_of(self.entries[i]) for i in action_ids if i in self.entries}

    async def invalidate(self, criteria: Invalidation) -> list[LedgerEntry]:
        if criteria.is_empty():
            raise ValueError("refusing to invalidate the whole ledger: give a criterion")
        gone = [
            e
            for e in self.entries.values()
            if e.action_id not in self.invalidated and criteria.matches(e)
        ]
        self.invalidated.update(e.action_id for e in gone)
        return gone

    async def live_tally(self, case_id: str | None) -> Tally:
        live = [
            e
            for e in self.entries.values()
            if e.action_id not in self.invalidated and case_id in (None, e.case_id)
        ]
        return tally(live)


@dataclass
class FakeTotals:
    stored: Tally = field(default_factory=Tally)
    revision: dict[str, int] = field(default_factory=dict)
    updated: dict[str, datetime] = field(default_factory=dict)

    async def add(self, delta: Tally) -> dict[str, int]:
        for case, amount in delta.totals.items():
            self.stored.totals[case] = self.stored.totals.get(case, 0) + amount
            self.revision[case] = self.revision.get(case, 0) + 1
            self.updated[case] = datetime.now(UTC)
        for row, amount in delta.rows.items():
            self.stored.rows[row] = self.stored.rows.get(row, 0) + amount
        return {case: self.stored.totals[case] for case in delta.totals}

    async def stored_tally(self, case_id: str | None) -> Tally:
        result = Tally()
        result.totals = {c: n for c, n in self.stored.totals.items() if n and case_id in (None, c)}
        result.rows = {r: n for r, n in self.stored.rows.items() if n and case_id in (None, r[0])}
        return result

    async def read(self, case_ids: list[str] | None) -> dict[str, CaseTotals]:
        cases = [c for c in self.revision if case_ids is None or c in case_ids]
        return {c: self._totals_of(c) for c in cases}

    def _totals_of(self, case: str) -> CaseTotals:
        def part(dimension: str) -> dict[str, int]:
            return {
                k: n
                for (c, d, k), n in self.stored.rows.items()
                if c == case and d == dimension and n
            }

        return CaseTotals(
            case_id=case,
            total=self.stored.totals.get(case, 0),
            by_type=part(TYPE),
            by_country=part(COUNTRY),
            by_channel=part(CHANNEL),
            by_source=part(SOURCE),
            updated_at=self.updated[case],
            revision=self.revision[case],
        )

    async def history(self, case_id: str) -> list[HourPoint]:
        rows = [
            (d, k, n)
            for (c, d, k), n in self.stored.rows.items()
            if c == case_id and d in HISTORY and n
        ]
        return history_of(rows)

    async def revisions(self) -> dict[str, int]:
        return dict(self.revision)


@dataclass
class FakeMilestones:
    reached: dict[tuple[str, int], int] = field(default_factory=dict)  # -> total when reached

    async def reach(
        self, case_id: str, campaign_id: str, milestones: list[int], total: int
    ) -> list[int]:
        new = sorted(m for m in set(milestones) if (case_id, m) not in self.reached)
        for milestone in new:
            self.reached[(case_id, milestone)] = total
        return new

    async def retract_above(self, case_id: str, total: int) -> list[int]:
        gone = sorted(m for c, m in self.reached if c == case_id and m > total)
        for milestone in gone:
            del self.reached[(case_id, milestone)]
        return gone


@dataclass
class FakeCountingLock:
    """Records how each transaction held the counting lock."""

    held: list[str] = field(default_factory=list)

    async def share(self) -> None:
        self.held.append("shared")

    async def alone(self) -> None:
        self.held.append("alone")


@dataclass
class FakeStore:
    ledger: FakeLedger = field(default_factory=FakeLedger)
    totals: FakeTotals = field(default_factory=FakeTotals)
    milestones: FakeMilestones = field(default_factory=FakeMilestones)
    lock: FakeCountingLock = field(default_factory=FakeCountingLock)
