"""The rate-limit guard of the action routes, on a recording store (the stores themselves
are tested against the real Redis in tests/integration/intake/test_rate_limit_stores.py):
whom it asks for, what a wait becomes, and a cost above the limit refused without asking."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from starlette.requests import Request

from services.intake.entrypoints import guards
from services.intake.entrypoints.requests import Refusal
from services.intake.entrypoints.state import IntakeState
from services.intake.settings import IntakeSettings
from shared.apikeys import ApiKey, Scope
from shared.catalog import CatalogView

pytestmark = pytest.mark.unit
PARTNER = ApiKey("partner", frozenset({Scope.ACTIONS_BATCH}), 100)
DECISIONS = "plume_intake_rate_limit_decisions_total"


class RecordingLimits:
    def __init__(self, wait: int) -> None:
        self.wait = wait
        self.asked: list[tuple[str, int, int]] = []

    async def take(self, caller: str, limit: int, cost: int) -> int:
        self.asked.append((caller, limit, cost))
        return self.wait

    async def close(self) -> None:
        return None


def state(wait: int) -> tuple[IntakeState, RecordingLimits]:
    limits = RecordingLimits(wait)
    settings = IntakeSettings(supporter_key_secret="s" * 16, anonymous_rate_limit=30)
    return IntakeState(settings, CatalogView("cases"), limits), limits


def request_from(address: str) -> Request:
    scope: dict[str, Any] = {"type": "http", "headers": [], "client": (address, 5000)}
    return Request(scope)


def decisions(subject: str, outcome: str) -> float:
    labels = {"subject": subject, "outcome": outcome}
    return REGISTRY.get_sample_value(DECISIONS, labels) or 0.0


async def test_an_anonymous_caller_is_limited_by_its_address() -> None:
    intake, limits = state(wait=0)
    before = decisions("address", "allowed")
    await guards.throttle(request_from("10.0.0.1"), intake, None, cost=1)
    assert limits.asked == [("addr:10.0.0.1", 30, 1)]
    assert decisions("address", "allowed") == before + 1


async def test_a_wait_is_a_429_with_its_retry_after() -> None:
    intake, limits = state(wait=7)
    before = decisions("key", "limited")
    with pytest.raises(Refusal) as refused:
        await guards.throttle(request_from("10.0.0.1"), intake, PARTNER, cost=40)
    assert limits.asked == [("key:partner", 100, 40)]
    assert refused.value.status == 429
    assert refused.value.response().headers["retry-after"] == "7"
    assert decisions("key", "limited") == before + 1


async def test_a_cost_above_the_limit_is_a_422_without_asking_the_store() -> None:
    intake, limits = state(wait=0)
    with pytest.raises(Refusal) as refused:
        await guards.throttle(request_from("10.0.0.1"), intake, PARTNER, cost=101)
    assert refused.value.status == 422
    assert limits.asked == []
