"""Rendering of the read API from the in-memory snapshot, and invalidation criteria."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import orjson
import pytest

from services.counter.adapters.snapshot import Snapshot
from services.counter.domain.model import entry_of
from services.counter.domain.ports import Invalidation
from services.counter.entrypoints.views import Views
from shared.contracts.totals import CaseTotals
from tests.unit.counter.builders import ACCEPTED, action

pytestmark = pytest.mark.unit


def snapshot_with(*cases: CaseTotals) -> Snapshot:
    snapshot = Snapshot(cast(asyncpg.Pool, None), "counter")  # rendering never queries
    snapshot.cases = {c.case_id: c for c in cases}
    return snapshot


def totals(case_id: str, total: int, revision: int) -> CaseTotals:
    moment = datetime(2025, 12, 10, 9, 0, 1, 250_000, tzinfo=UTC)
    return CaseTotals(
        case_id=case_id,
        total=total,
        by_type={"letter": total},
        by_country={"ZZ": total},
        by_channel={"web": total},
        by_source={"web": total},
        updated_at=moment,
        revision=revision,
    )


def test_a_case_renders_the_contract_body_with_a_stable_etag() -> None:
    views = Views(snapshot_with(totals("case-a", 5, 1)))
    body, etag = views.case("case-a")
    assert orjson.loads(body) == {
        "case_id": "case-a",
        "total": 5,
        "by_type": {"letter": 5},
        "by_country": {"ZZ": 5},
        "by_channel": {"web": 5},
        "by_source": {"web": 5},
        "updated_at": "2025-12-10T09:00:01.250Z",
    }
    assert views.case("case-a")[1] == etag
    views.snapshot.cases["case-a"] = totals("case-a", 6, 2)
    assert views.case("case-a")[1] != etag


def test_known_cases_without_counts_are_zeros_in_the_grand_total() -> None:
    views = Views(snapshot_with(totals("case-a", 5, 1)))
    body, _ = views.everything(["case-a", "case-z"])
    everything = orjson.loads(body)
    assert everything["total"] == 5
    assert [c["case_id"] for c in everything["cases"]] == ["case-a", "case-z"]
    assert everything["cases"][1]["updated_at"] is None


def test_invalidation_criteria_all_must_match() -> None:
    later = ACCEPTED + timedelta(hours=1)
    criteria = Invalidation(source="partner-x", accepted_from=ACCEPTED, accepted_to=later)
    assert criteria.matches(entry_of(action(source="partner-x")))
    assert not criteria.matches(entry_of(action(source="partner-y")))
    assert not criteria.matches(entry_of(action(source="partner-x", accepted_at=later)))
    assert Invalidation().is_empty()


def test_a_snapshot_not_refreshed_for_long_is_a_readiness_problem() -> None:
    snapshot = snapshot_with()
    assert snapshot.problem(10.0) == "the read snapshot is not loaded yet"
    snapshot.refreshed_at = time.monotonic()
    assert snapshot.problem(10.0) is None
    snapshot.refreshed_at = time.monotonic() - 125
    assert snapshot.problem(10.0) == (
        "the read snapshot was last refreshed 125 s ago; totals may be stale"
    )
