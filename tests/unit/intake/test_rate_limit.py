from __future__ import annotations

import pytest

from services.intake.domain.rate_limit import AboveBurst, RateLimiter, burst

pytestmark = pytest.mark.unit


def test_a_minutes_worth_passes_at_once_then_the_next_waits() -> None:
    limiter = RateLimiter()
    assert all(limiter.take("a", 60, 1, now=0.0) == 0 for _ in range(60))
    assert limiter.take("a", 60, 1, now=0.0) == 1  # one token per second refills


def test_tokens_refill_with_time() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 60, 60, now=0.0) == 0
    assert limiter.take("a", 60, 10, now=5.0) == 5
    assert limiter.take("a", 60, 10, now=10.0) == 0


def test_zero_means_unlimited() -> None:
    limiter = RateLimiter()
    assert all(limiter.take("a", 0, 1_000, now=0.0) == 0 for _ in range(100))


def test_callers_do_not_share_buckets() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 1, 1, now=0.0) == 0
    assert limiter.take("a", 1, 1, now=0.0) == 60
    assert limiter.take("b", 1, 1, now=0.0) == 0


def test_a_cost_above_the_burst_is_refused_for_good_and_spends_nothing() -> None:
    # Issue 9 item 11: a key limited to 10/minute sent 1,000 actions at once, was let
    # through, and was then told to wait 5,946 s.
    limiter = RateLimiter()
    with pytest.raises(AboveBurst) as refused:
        limiter.take("a", 10, 1_000, now=0.0)
    assert refused.value.burst == 10 == burst(10)
    assert limiter.take("a", 10, 10, now=0.0) == 0  # the bucket was left full


@pytest.mark.parametrize("per_minute", [1, 3, 10, 600, 100_000])
def test_retry_after_never_exceeds_a_minute(per_minute: int) -> None:
    limiter = RateLimiter()
    assert limiter.take("a", per_minute, burst(per_minute), now=0.0) == 0
    waits = [limiter.take("a", per_minute, cost, now=0.0) for cost in (1, burst(per_minute))]
    assert all(1 <= wait <= 60 for wait in waits)
    assert limiter.take("a", per_minute, burst(per_minute), now=60.0) == 0


def test_tokens_given_back_are_spendable_again_up_to_a_full_bucket() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 6, 6, now=0.0) == 0
    limiter.give_back("a", 6, 1, now=0.0)
    assert limiter.take("a", 6, 1, now=0.0) == 0
    assert limiter.take("a", 6, 1, now=0.0) == 10
    limiter.give_back("a", 6, 100, now=0.0)
    assert limiter.take("a", 6, 6, now=0.0) == 0
    assert limiter.take("a", 6, 1, now=0.0) == 10


def test_idle_callers_are_forgotten_when_the_table_is_full() -> None:
    limiter = RateLimiter(max_callers=10)
    for n in range(10):
        limiter.take(f"c{n}", 60, 1, now=0.0)
    limiter.take("new", 60, 1, now=120.0)  # everyone has refilled by now
    assert len(limiter._buckets) == 1
