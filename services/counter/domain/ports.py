"""The counter's ports. PostgreSQL adapters implement them on one connection inside the
caller's transaction (adapters/pg_counting.py bundles them); tests/unit/counter/fakes.py
implements them in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.counter.domain.lookups import Seen
from services.counter.domain.model import HourPoint, LedgerEntry, Tally
from shared.action_ids import ActionIdentity
from shared.contracts.catalog import CaseRecord
from shared.contracts.totals import CaseTotals


@dataclass(frozen=True)
class Invalidation:
    """Which ledger entries to stop counting (all given criteria must match);
    `accepted_from` is inclusive, `accepted_to` exclusive."""

    source: str | None = None
    case_id: str | None = None
    accepted_from: datetime | None = None
    accepted_to: datetime | None = None
    network_hash: str | None = None  # a wave flagged by abuse detection (domain/waves.py)
    email_domain_hash: str | None = None

    def is_empty(self) -> bool:
        return not (
            self.source
            or self.case_id
            or self.accepted_from
            or self.accepted_to
            or self.network_hash
            or self.email_domain_hash
        )

    def matches(self, entry: LedgerEntry) -> bool:
        return (
            (self.source is None or entry.source == self.source)
            and (self.case_id is None or entry.case_id == self.case_id)
            and (self.accepted_from is None or entry.accepted_at >= self.accepted_from)
            and (self.accepted_to is None or entry.accepted_at < self.accepted_to)
            and (self.network_hash is None or entry.network_hash == self.network_hash)
            and (
                self.email_domain_hash is None or entry.email_domain_hash == self.email_domain_hash
            )
        )


class Ledger(Protocol):
    """Every action ever counted, once. `record` keeps the entries not seen before (a new
    action_id; for a signature, also a (case, supporter_key) not counted yet) and returns
    exactly those, so recording the same entries again returns []. `invalidate` marks the
    live entries that match as no longer counted and returns them (they stay in the ledger,
    so a replay cannot count them again). `live_tally` sums the live entries of one case
    (or of all cases when `case_id` is None). `identities` gives the identity of each of
    the given action ids that the ledger holds (live or invalidated). `keep_duplicates`
    keeps, of entries `record` refused, those whose action_id the ledger does not hold (a
    supporter's second signature of a case); `seen` tells what is held about an action_id
    (the ledger's entry first, else a kept duplicate)."""

    async def record(self, entries: list[LedgerEntry]) -> list[LedgerEntry]: ...

    async def keep_duplicates(self, refused: list[LedgerEntry]) -> None: ...

    async def seen(self, action_id: UUID) -> Seen | None: ...

    async def identities(self, action_ids: list[UUID]) -> dict[UUID, ActionIdentity]: ...

    async def invalidate(self, criteria: Invalidation) -> list[LedgerEntry]: ...

    async def live_tally(self, case_id: str | None) -> Tally: ...


class Totals(Protocol):
    """Per-case totals and breakdown rows. `add` adds a tally with one update per case and
    per row, and returns the new total of every case in it. `stored_tally` returns the
    stored sums (of one case, or all). `read` returns the totals of the given cases (all
    when None) without the history rows; `history` the per-hour counts of a case (in all
    and per source), oldest first; `revisions` each case's revision, which grows with
    every change."""

    async def add(self, delta: Tally) -> dict[str, int]: ...

    async def stored_tally(self, case_id: str | None) -> Tally: ...

    async def read(self, case_ids: list[str] | None) -> dict[str, CaseTotals]: ...

    async def history(self, case_id: str) -> list[HourPoint]: ...

    async def revisions(self) -> dict[str, int]: ...


class Milestones(Protocol):
    """Milestones reached per case, each announced once. `reach` records those of the given
    milestones not recorded before, each with an announcement to publish, and returns them.
    `retract_above` forgets the recorded milestones above a corrected total (so they can be
    reached and announced again) and returns them."""

    async def reach(
        self, case_id: str, campaign_id: str, milestones: list[int], total: int
    ) -> list[int]: ...

    async def retract_above(self, case_id: str, total: int) -> list[int]: ...


class CountingLock(Protocol):
    """Held until the transaction ends. Batches `share` it (they count side by side); a
    correction holds it `alone`, so no batch commits between its reading the ledger and
    its writing the totals."""

    async def share(self) -> None: ...

    async def alone(self) -> None: ...


class CountingStore(Protocol):
    """The ports of one transaction: what a batch or a correction works on."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def totals(self) -> Totals: ...

    @property
    def milestones(self) -> Milestones: ...

    @property
    def lock(self) -> CountingLock: ...


class Catalogue(Protocol):
    """The case catalogue as followed from Kafka (shared.catalog.CatalogView)."""

    def get(self, case_id: str) -> CaseRecord | None: ...
