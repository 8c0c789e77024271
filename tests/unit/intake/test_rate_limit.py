from __future__ import annotations

import pytest

from services.intake.domain.rate_limit import RateLimiter

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


def test_a_cost_above_a_minutes_worth_passes_on_a_full_bucket_and_leaves_debt() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 600, 1_000, now=0.0) == 0
    # 400 tokens of debt plus one to spend: 401 tokens at 10 per second.
    assert limiter.take("a", 600, 1, now=0.0) == 41
    assert limiter.take("a", 600, 1_000, now=40.0) == 60
    assert limiter.take("a", 600, 1_000, now=100.0) == 0


def test_idle_callers_are_forgotten_when_the_table_is_full() -> None:
    limiter = RateLimiter(max_callers=10)
    for n in range(10):
        limiter.take(f"c{n}", 60, 1, now=0.0)
    limiter.take("new", 60, 1, now=120.0)  # everyone has refilled by now
    assert len(limiter._buckets) == 1
