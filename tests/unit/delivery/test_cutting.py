"""Cutting as a use case, through fakes of its ports: when a case's pending items are
sealed (size, age, closed case, on request), and to whom each dossier goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.domain.policy import CutPolicy, CutReason
from services.delivery.service import cut_case_now, cut_due_cases, pending_signatures
from shared.contracts.dossiers import DossierKind
from tests.unit.delivery.fakes import FakeCatalogue, FakeCutter, case_record

pytestmark = pytest.mark.unit
NOW = datetime(2025, 12, 10, 12, tzinfo=UTC)
POLICY = CutPolicy(size=100, max_age=timedelta(hours=24))
SIGNATURES, SOLIDARITY = DossierKind.SIGNATURES, DossierKind.SOLIDARITY


async def test_a_case_is_cut_when_its_pending_signatures_reach_the_size() -> None:
    cutter, catalogue = FakeCutter(), FakeCatalogue(case_record("a"), case_record("b"))
    cutter.add("a", SIGNATURES, 100, oldest=NOW - timedelta(minutes=5))
    cutter.add("b", SIGNATURES, 99, oldest=NOW - timedelta(minutes=5))

    created = await cut_due_cases(cutter, catalogue, POLICY, NOW)

    assert [(c.order.case_id, c.order.reason) for c in cutter.cuts] == [("a", CutReason.SIZE)]
    assert created == cutter.cuts[0].ids
    assert list(cutter.waiting) == [("b", SIGNATURES)]


async def test_a_case_is_cut_when_its_oldest_pending_item_reaches_the_age() -> None:
    cutter, catalogue = FakeCutter(), FakeCatalogue(case_record("a"), case_record("b"))
    cutter.add("a", SIGNATURES, 1, oldest=NOW - timedelta(hours=24))
    cutter.add("b", SOLIDARITY, 1, oldest=NOW - timedelta(hours=24) + timedelta(seconds=1))

    await cut_due_cases(cutter, catalogue, POLICY, NOW)

    assert [(c.order.case_id, c.order.reason) for c in cutter.cuts] == [("a", CutReason.AGE)]


async def test_a_closed_case_is_cut_at_once_and_an_unknown_one_waits() -> None:
    cutter = FakeCutter()
    catalogue = FakeCatalogue(case_record("closed", status="closed"))
    cutter.add("closed", SIGNATURES, 1, oldest=NOW)
    cutter.add("unknown", SIGNATURES, 10_000, oldest=NOW - timedelta(days=9))

    await cut_due_cases(cutter, catalogue, POLICY, NOW)

    assert [(c.order.case_id, c.order.reason) for c in cutter.cuts] == [
        ("closed", CutReason.CLOSED)
    ]
    assert list(cutter.waiting) == [("unknown", SIGNATURES)]


async def test_nothing_is_cut_before_the_catalogue_is_read_to_its_end() -> None:
    cutter = FakeCutter()
    catalogue = FakeCatalogue(case_record("a", status="closed"), loaded=False)
    cutter.add("a", SIGNATURES, 1_000, oldest=NOW - timedelta(days=2))

    assert await cut_due_cases(cutter, catalogue, POLICY, NOW) == []
    assert cutter.cuts == []


async def test_signatures_go_to_every_target_of_the_case() -> None:
    record = case_record("a", channels=("manual", "email", "webhook"))
    cutter = FakeCutter()
    cutter.add("a", SIGNATURES, 100, oldest=NOW)

    await cut_due_cases(cutter, FakeCatalogue(record), POLICY, NOW)

    (cut,) = cutter.cuts
    assert [a.target_id for a in cut.order.addressees] == ["t1", "t2", "t3"]
    assert [a.target["delivery"]["channel"] for a in cut.order.addressees] == [
        "manual",
        "email",
        "webhook",
    ]
    assert cut.order.snapshot["name"] == "Sonia Dahmani"
    assert cut.order.snapshot["campaign"] == "Write for Rights"


async def test_a_solidarity_dossier_goes_to_the_person_of_the_case_by_hand() -> None:
    record = case_record("a", channels=("email", "webhook"))
    cutter = FakeCutter()
    cutter.add("a", SOLIDARITY, 100, oldest=NOW)

    await cut_due_cases(cutter, FakeCatalogue(record), POLICY, NOW)

    (cut,) = cutter.cuts
    assert cut.order.kind is SOLIDARITY
    (person,) = cut.order.addressees
    assert person.target_id == "a"
    assert person.target == {
        "id": "a",
        "name": "Sonia Dahmani",
        "language": "fr",  # the language of the case's first target
        "delivery": {"channel": "manual"},
    }


async def test_cut_now_seals_both_kinds_and_knows_no_unknown_case() -> None:
    cutter = FakeCutter()
    catalogue = FakeCatalogue(case_record("a"))
    cutter.add("a", SIGNATURES, 1, oldest=NOW)
    cutter.add("a", SOLIDARITY, 1, oldest=NOW)

    assert await cut_case_now(cutter, catalogue, "nobody") is None
    created = await cut_case_now(cutter, catalogue, "a")

    assert [(c.order.kind, c.order.reason) for c in cutter.cuts] == [
        (SIGNATURES, CutReason.REQUESTED),
        (SOLIDARITY, CutReason.REQUESTED),
    ]
    assert created == [i for c in cutter.cuts for i in c.ids]
    assert await cut_case_now(cutter, catalogue, "a") == []  # nothing pending any more


async def test_pending_signatures_are_counted_for_every_known_case() -> None:
    cutter = FakeCutter()
    cutter.add("a", SIGNATURES, 7, oldest=NOW)
    cutter.add("a", SOLIDARITY, 3, oldest=NOW)
    cases = FakeCatalogue(case_record("a"), case_record("b")).cases

    assert pending_signatures(await cutter.pending(), cases) == {"a": 7, "b": 0}
