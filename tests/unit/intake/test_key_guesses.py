"""Key guessing is throttled per client address before the key store is asked (issue 9,
item 10: 1,500 random keys at 200-250 guesses/s, each a database query)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from prometheus_client import REGISTRY
from starlette.requests import Request

from services.intake.domain.key_guesses import KeyGuessGuard
from services.intake.entrypoints import guards
from services.intake.entrypoints.requests import Refusal
from services.intake.entrypoints.state import IntakeState
from services.intake.settings import IntakeSettings
from shared.apikeys import ApiKey, Scope
from shared.catalog import CatalogView

pytestmark = pytest.mark.unit

LIVE = "the-partners-live-key"
REFUSED_GUESSES = "plume_intake_key_guesses_refused_total"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def test_an_address_gets_n_unknown_keys_a_minute_then_waits() -> None:
    guard = KeyGuessGuard(per_minute=10)
    attempts = [guard.admit("10.0.0.1", digest(f"guess-{n}"), now=0.0) for n in range(11)]
    assert [a.wait for a in attempts[:10]] == [0] * 10
    assert attempts[10].wait == 6 and not attempts[10].charged  # one attempt per 6 s
    assert guard.admit("10.0.0.2", digest("guess"), now=0.0).wait == 0  # others unaffected
    assert guard.admit("10.0.0.1", digest("guess-11"), now=6.0).wait == 0


def test_attempts_are_taken_before_the_answers_so_concurrent_guesses_are_bounded() -> None:
    guard = KeyGuessGuard(per_minute=3)
    # None of the look-ups has come back yet: the fourth is refused all the same.
    waits = [guard.admit("10.0.0.1", digest(f"g{n}"), now=0.0).wait for n in range(4)]
    assert waits[:3] == [0, 0, 0] and waits[3] > 0


def test_a_live_key_gives_its_attempt_back_and_passes_a_throttled_address() -> None:
    guard = KeyGuessGuard(per_minute=2)
    first = guard.admit("10.0.0.1", digest(LIVE), now=0.0)
    guard.found("10.0.0.1", digest(LIVE), first, now=0.0)
    for n in range(2):
        guard.unknown(digest(f"g{n}"))
        assert guard.admit("10.0.0.1", digest(f"g{n}"), now=0.0).wait == 0
    assert guard.admit("10.0.0.1", digest("g3"), now=0.0).wait > 0
    # The partner behind the same address still gets its key looked up.
    again = guard.admit("10.0.0.1", digest(LIVE), now=0.0)
    assert again.wait == 0 and not again.charged


def test_a_revoked_key_pays_like_a_guess() -> None:
    guard = KeyGuessGuard(per_minute=1)
    guard.found("10.0.0.1", digest(LIVE), guard.admit("10.0.0.1", digest(LIVE), 0.0), 0.0)
    guard.unknown(digest(LIVE))  # revoked: the store no longer finds it
    assert guard.admit("10.0.0.1", digest(LIVE), now=0.0).charged
    assert guard.admit("10.0.0.1", digest(LIVE), now=0.0).wait == 60


def test_an_attempt_the_store_could_not_answer_is_given_back() -> None:
    guard = KeyGuessGuard(per_minute=1)
    attempt = guard.admit("10.0.0.1", digest("g"), now=0.0)
    guard.not_asked("10.0.0.1", attempt, now=0.0)
    assert guard.admit("10.0.0.1", digest("g"), now=0.0).wait == 0


def test_zero_turns_the_throttle_off() -> None:
    guard = KeyGuessGuard(per_minute=0)
    assert all(guard.admit("a", digest(f"g{n}"), 0.0).wait == 0 for n in range(1_000))


class CountingStore:
    def __init__(self) -> None:
        self.asked = 0

    async def find(self, secret: str) -> ApiKey | None:
        self.asked += 1
        return ApiKey("partner", frozenset({Scope.ACTIONS_BATCH}), 0) if secret == LIVE else None


def request_from(address: str, key: str) -> Request:
    headers = [(b"x-api-key", key.encode())]
    scope: dict[str, Any] = {"type": "http", "headers": headers, "client": (address, 5000)}
    return Request(scope)


async def test_past_the_limit_find_key_answers_429_without_asking_the_store() -> None:
    intake = IntakeState(
        IntakeSettings(supporter_key_secret="s" * 16, key_guess_limit=5), CatalogView("cases")
    )
    store = intake.keys = CountingStore()
    refused_before = REGISTRY.get_sample_value(REFUSED_GUESSES) or 0.0
    refusals: list[Refusal] = []
    for n in range(50):
        with pytest.raises(Refusal) as refused:
            await guards.find_key(request_from("10.0.0.1", f"guess-{n}"), intake)
        refusals.append(refused.value)
    assert [r.status for r in refusals] == [401] * 5 + [429] * 45
    assert store.asked == 5
    assert REGISTRY.get_sample_value(REFUSED_GUESSES) == refused_before + 45
    assert refusals[-1].response().headers["retry-after"] == "12"  # 5 a minute: one per 12 s
    key = await guards.find_key(request_from("10.0.0.2", LIVE), intake)
    assert key is not None and key.name == "partner"
