"""What the counter counts: ledger entries and the sums they add up to (a case's totals as
readers see them are shared.contracts.totals.CaseTotals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from shared.action_ids import ActionFacts, ActionIdentity
from shared.contracts.actions import ActionType
from shared.logs import Traceable

# Breakdown dimensions of a case's totals; `hour` is the history a curve is drawn from,
# `hour_source` the same history per source (key: the hour, a space, the source).
TYPE, COUNTRY, CHANNEL, SOURCE = "type", "country", "channel", "source"
HOUR, HOUR_SOURCE = "hour", "hour_source"
DIMENSIONS = (TYPE, COUNTRY, CHANNEL, SOURCE, HOUR, HOUR_SOURCE)
HISTORY = (HOUR, HOUR_SOURCE)  # not part of a case's totals as read
# The source of actions sent without an API key: intake's events say "anonymous" (events
# already on the topic keep saying it); totals name it "web" (contract v2).
ANONYMOUS, WEB = "anonymous", "web"
HOUR_LENGTH = len("2025-12-10T09:00:00Z")


class CountedFacts(ActionFacts, Traceable, Protocol):
    """What the counter reads of an accepted action: its identity's facts, its ids for the
    logs, and these. `ActionEvent` has all of it, and so has what the consumer decodes
    (entrypoints/action_decoding.py)."""

    @property
    def action_id(self) -> UUID: ...
    @property
    def type(self) -> ActionType: ...
    @property
    def accepted_at(self) -> datetime: ...
    @property
    def heartbeat(self) -> bool: ...
    @property
    def network_hash(self) -> str | None: ...
    @property
    def email_domain_hash(self) -> str | None: ...


class LedgerEntry(NamedTuple):
    """One action as the ledger keeps it. `supporter_key` is kept for signatures only:
    it is what makes a signature count once per supporter and case."""

    action_id: UUID
    case_id: str
    type: str
    channel: str
    country: str
    amount: int  # the action's `count` (a tuple already has a count())
    supporter_key: str | None
    source: str
    accepted_at: datetime
    # keyed hashes of the client's network and email domain (abuse detection; may be None)
    network_hash: str | None = None
    email_domain_hash: str | None = None

    @property
    def hour(self) -> str:
        """The hour the action was accepted in (UTC), the key of the history curve."""
        return hour_of(self.accepted_at)


class HourPoint(NamedTuple):
    """One hour of a case's history: what was counted in it, in all and per source."""

    hour: str
    amount: int  # the API's `count` (a tuple already has a count())
    by_source: dict[str, int]


def history_of(rows: Sequence[tuple[str, str, int]]) -> list[HourPoint]:
    """The history, oldest first, from (dimension, key, total) rows of HISTORY."""
    counts: dict[str, int] = {}
    sources: dict[str, dict[str, int]] = {}
    for dimension, key, total in rows:
        if dimension == HOUR:
            counts[key] = total
        elif dimension == HOUR_SOURCE:
            hour, source = split_hour_source(key)
            sources.setdefault(hour, {})[source] = total
    return [HourPoint(hour, counts[hour], sources.get(hour, {})) for hour in sorted(counts)]


def hour_of(moment: datetime) -> str:
    """`2025-12-10T09:00:00Z` for any moment in that UTC hour (isoformat is the fast path)."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:13] + ":00:00Z"


def source_name(source: str) -> str:
    """The name a source has in the totals' `by_source`: the key's name, "web" without one."""
    return WEB if source == ANONYMOUS else source


def hour_source_key(hour: str, source: str) -> str:
    return f"{hour} {source}"


def split_hour_source(key: str) -> tuple[str, str]:
    """(hour, source) of an `hour_source` row's key (an hour has a fixed length)."""
    return key[:HOUR_LENGTH], key[HOUR_LENGTH + 1 :]


def breakdown_keys(
    kind: str, country: str, channel: str, source: str, hour: str
) -> tuple[tuple[str, str], ...]:
    """The (dimension, key) of every breakdown row an action adds to."""
    name = source_name(source)
    return (
        (TYPE, kind),
        (COUNTRY, country),
        (CHANNEL, channel),
        (SOURCE, name),
        (HOUR, hour),
        (HOUR_SOURCE, hour_source_key(hour, name)),
    )


def identity_of(entry: LedgerEntry) -> ActionIdentity:
    """The entry's action as shared.action_ids compares it (its supporter_key is already
    kept for signatures only, as the identity's)."""
    return ActionIdentity(
        entry.case_id,
        str(entry.type),
        entry.amount,
        str(entry.channel),
        entry.country,
        entry.source,
        entry.supporter_key,
    )


def entry_of(event: CountedFacts) -> LedgerEntry:
    is_signature = event.type is ActionType.SIGNATURE
    return LedgerEntry(
        action_id=event.action_id,
        case_id=event.case_id,
        type=event.type,  # a StrEnum is its value; no descriptor call per action
        channel=event.channel,
        country=event.country,
        amount=event.count,
        supporter_key=event.supporter_key if is_signature else None,
        source=event.source,
        accepted_at=event.accepted_at,
        network_hash=event.network_hash,
        email_domain_hash=event.email_domain_hash,
    )


@dataclass
class Tally:
    """Sums of a set of entries: per case, and per (case, dimension, key) breakdown row."""

    totals: dict[str, int] = field(default_factory=dict)
    rows: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def add_group(self, case: str, keys: tuple[tuple[str, str], ...], amount: int) -> None:
        """Add `amount` to the case's total and to its row of each (dimension, key)."""
        self.totals[case] = self.totals.get(case, 0) + amount
        for dimension, key in keys:
            row = (case, dimension, key)
            self.rows[row] = self.rows.get(row, 0) + amount

    def minus(self, other: Tally) -> Tally:
        """What must be added to `other` to obtain this tally (zero differences dropped)."""
        diff = Tally()
        for case in self.totals.keys() | other.totals.keys():
            delta = self.totals.get(case, 0) - other.totals.get(case, 0)
            if delta:
                diff.totals[case] = delta
        for row in self.rows.keys() | other.rows.keys():
            delta = self.rows.get(row, 0) - other.rows.get(row, 0)
            if delta:
                diff.rows[row] = delta
        return diff

    def is_empty(self) -> bool:
        return not self.totals and not self.rows

    def cases(self) -> set[str]:
        return set(self.totals) | {case for case, _, _ in self.rows}


def tally(entries: list[LedgerEntry], sign: int = 1) -> Tally:
    """Aggregate entries in memory so that storing them costs one update per row. Entries
    are first grouped by everything a row depends on (few groups for many entries)."""
    groups: dict[tuple[str, str, str, str, str, int], int] = {}
    for e in entries:
        hours = int(e.accepted_at.timestamp()) // 3600
        group = (e.case_id, e.type, e.country, e.channel, e.source, hours)
        groups[group] = groups.get(group, 0) + e.amount
    result = Tally()
    for (case, kind, country, channel, source, hours), amount in groups.items():
        hour = hour_of(datetime.fromtimestamp(hours * 3600, UTC))
        keys = breakdown_keys(kind, country, channel, source, hour)
        result.add_group(case, keys, sign * amount)
    return result


def first_of_each_action(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Drop repeats of an action_id within one batch (a replayed or re-sent action)."""
    seen: set[UUID] = set()
    unique = []
    for entry in entries:
        if entry.action_id not in seen:
            seen.add(entry.action_id)
            unique.append(entry)
    return unique
