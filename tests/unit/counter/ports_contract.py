"""The semantics of the counter's ports (Ledger, Totals, Milestones), run against the
in-memory fakes (tests/unit) and the PostgreSQL adapters (tests/integration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

import pytest

from services.counter.domain.model import HOUR, TYPE, LedgerEntry, entry_of, tally
from services.counter.domain.ports import Invalidation, Ledger, Milestones, Totals
from tests.unit.counter.builders import ACCEPTED, action, signature


@dataclass
class Ports:
    ledger: Ledger
    totals: Totals
    milestones: Milestones


class PortsContract:
    async def test_record_keeps_only_actions_not_seen_before(self, ports: Ports) -> None:
        first = [entry_of(action()), entry_of(action())]
        assert await ports.ledger.record(first) == first
        again = entry_of(action())
        assert await ports.ledger.record([*first, again]) == [again]
        assert await ports.ledger.record(first) == []

    async def test_a_signature_counts_once_per_supporter_and_case(self, ports: Ports) -> None:
        one = entry_of(signature("case-a", "key-1"))
        same_supporter = entry_of(signature("case-a", "key-1"))
        other_case = entry_of(signature("case-b", "key-1"))
        kept = await ports.ledger.record([one, same_supporter, other_case])
        assert kept == [one, other_case]

    async def test_letters_of_one_supporter_all_count(self, ports: Ports) -> None:
        letters = [entry_of(action(supporter_key="key-1")) for _ in range(3)]
        assert await ports.ledger.record(letters) == letters

    async def test_identities_of_the_actions_held_live_or_invalidated(self, ports: Ports) -> None:
        letter = entry_of(action(count=3, country="SN", source="partner-x"))
        signed = entry_of(signature("case-b", "key-1"))
        await ports.ledger.record([letter, signed])
        await ports.ledger.invalidate(Invalidation(source="partner-x"))
        unknown = uuid4()
        found = await ports.ledger.identities([letter.action_id, signed.action_id, unknown])
        assert found == {
            letter.action_id: ("case-a", "letter", 3, "web", "SN", "partner-x", None),
            signed.action_id: ("case-b", "signature", 1, "web", "ZZ", "anonymous", "key-1"),
        }

    async def test_seen_tells_counted_invalidated_and_duplicate(self, ports: Ports) -> None:
        letter = entry_of(action(source="partner-x"))
        signed = entry_of(signature("case-b", "key-1", source="partner-x"))
        again = entry_of(signature("case-b", "key-1", source="partner-x"))
        await ports.ledger.record([letter, signed, again])
        await ports.ledger.keep_duplicates([again, letter])  # `letter` is in the ledger
        await ports.ledger.keep_duplicates([again])  # kept once
        await ports.ledger.invalidate(Invalidation(case_id="case-a"))
        found = await ports.ledger.seen(letter.action_id)
        assert found is not None and found[:2] == ("case-a", "partner-x")
        assert found.invalidated and not found.duplicate and found.counted_at is not None
        counted = await ports.ledger.seen(signed.action_id)
        assert counted is not None and not counted.invalidated and not counted.duplicate
        assert await ports.ledger.seen(again.action_id) == (
            "case-b",
            "partner-x",
            None,
            False,
            True,
        )
        assert await ports.ledger.seen(uuid4()) is None

    async def test_invalidate_matches_all_criteria_once(self, ports: Ports) -> None:
        late = ACCEPTED + timedelta(hours=2)
        fraud = entry_of(action(source="partner-x", accepted_at=late, count=5))
        earlier = entry_of(action(source="partner-x"))
        other = entry_of(action(source="partner-y", accepted_at=late))
        await ports.ledger.record([fraud, earlier, other])
        criteria = Invalidation(source="partner-x", accepted_from=late - timedelta(minutes=1))
        assert await ports.ledger.invalidate(criteria) == [fraud]
        assert await ports.ledger.invalidate(criteria) == []
        assert await ports.ledger.record([fraud]) == [], "an invalidated action stays known"
        assert (await ports.ledger.live_tally(None)).totals == {"case-a": 2}

    async def test_invalidate_by_network_or_domain_hash(self, ports: Ports) -> None:
        def made(network: str | None, domain: str | None) -> LedgerEntry:
            entry = entry_of(action())
            return entry._replace(network_hash=network, email_domain_hash=domain)

        wave, same_domain, other, old = (
            made("n1", "d1"),
            made("n2", "d1"),
            made("n2", "d2"),
            made(None, None),
        )
        await ports.ledger.record([wave, same_domain, other, old])
        assert await ports.ledger.invalidate(Invalidation(network_hash="n1")) == [wave]
        by_domain = await ports.ledger.invalidate(Invalidation(email_domain_hash="d1"))
        assert by_domain == [same_domain]
        assert await ports.ledger.invalidate(Invalidation(network_hash="n1")) == []
        assert (await ports.ledger.live_tally(None)).totals == {"case-a": 2}

    async def test_invalidate_refuses_no_criteria(self, ports: Ports) -> None:
        with pytest.raises(ValueError):
            await ports.ledger.invalidate(Invalidation())

    async def test_live_tally_sums_by_case_and_row(self, ports: Ports) -> None:
        entries = [entry_of(action("case-a", count=3)), entry_of(action("case-b", country="FR"))]
        await ports.ledger.record(entries)
        assert (await ports.ledger.live_tally(None)).rows == tally(entries).rows
        only_b = await ports.ledger.live_tally("case-b")
        assert only_b.totals == {"case-b": 1}
        assert only_b.rows[("case-b", "country", "FR")] == 1

    async def test_add_returns_new_totals_and_bumps_revisions(self, ports: Ports) -> None:
        delta = tally([entry_of(action("case-a", count=2)), entry_of(action("case-b"))])
        assert await ports.totals.add(delta) == {"case-a": 2, "case-b": 1}
        first = await ports.totals.revisions()
        assert await ports.totals.add(delta) == {"case-a": 4, "case-b": 2}
        second = await ports.totals.revisions()
        assert all(second[c] > first[c] for c in ("case-a", "case-b"))

    async def test_read_gives_breakdowns_without_hours(self, ports: Ports) -> None:
        await ports.totals.add(tally([entry_of(action("case-a", count=2, country="SN"))]))
        await ports.totals.add(tally([entry_of(action("case-a", source="partner-x"))]))
        read = (await ports.totals.read(["case-a"]))["case-a"]
        assert (read.total, read.by_type, read.by_country) == (3, {"letter": 3}, {"SN": 2, "ZZ": 1})
        assert read.by_channel == {"web": 3}
        assert read.by_source == {"web": 2, "partner-x": 1}
        assert read.updated_at is not None
        assert await ports.totals.read(["case-unknown"]) == {}

    async def test_history_is_per_hour_oldest_first(self, ports: Ports) -> None:
        later = ACCEPTED + timedelta(hours=1, minutes=5)
        await ports.totals.add(tally([entry_of(action(accepted_at=later)), entry_of(action())]))
        await ports.totals.add(
            tally([entry_of(action(accepted_at=later, count=4, source="partner x"))])
        )
        assert await ports.totals.history("case-a") == [
            ("2025-12-10T09:00:00Z", 1, {"web": 1}),
            ("2025-12-10T10:00:00Z", 5, {"web": 1, "partner x": 4}),
        ]

    async def test_stored_tally_drops_zero_rows(self, ports: Ports) -> None:
        entry = entry_of(action("case-a", count=2))
        await ports.totals.add(tally([entry]))
        await ports.totals.add(tally([entry], sign=-1))
        assert (await ports.totals.stored_tally("case-a")).is_empty()
        await ports.totals.add(tally([entry_of(action("case-b"))]))
        stored = await ports.totals.stored_tally(None)
        assert stored.totals == {"case-b": 1}
        assert ("case-b", TYPE, "letter") in stored.rows
        assert any(d == HOUR for _, d, _ in stored.rows)

    async def test_a_milestone_is_reached_once(self, ports: Ports) -> None:
        case = f"case-{uuid4().hex[:6]}"
        assert await ports.milestones.reach(case, "w4r", [10, 100], 150) == [10, 100]
        assert await ports.milestones.reach(case, "w4r", [10, 100, 1000], 1500) == [1000]
        assert await ports.milestones.reach(case, "w4r", [10, 100, 1000], 1600) == []

    async def test_retracted_milestones_can_be_reached_again(self, ports: Ports) -> None:
        await ports.milestones.reach("case-a", "w4r", [10, 100], 150)
        assert await ports.milestones.retract_above("case-a", 50) == [100]
        assert await ports.milestones.retract_above("case-a", 50) == []
        assert await ports.milestones.reach("case-a", "w4r", [10, 100], 120) == [100]
