"""Token buckets per caller, in one process: `per_minute` tokens refill evenly over a minute
(`window_s`, shorter only in tests) and a bucket holds at most a minute's worth, which may
be spent at once (the burst). A request costs
one token per action (a batch one per item). Time is passed in, so the arithmetic is
testable."""

from __future__ import annotations

import math
from dataclasses import dataclass


class AboveBurst(ValueError):
    """The request costs more than a full bucket holds: it could never pass, so waiting
    would not help (it must be split). Letting it through instead would leave the bucket
    so deep in debt that the caller's next request waits hours."""

    def __init__(self, burst: int) -> None:
        super().__init__(f"costs more than the burst of {burst}")
        self.burst = burst


def burst(per_minute: int) -> int:
    """The most one request may cost: a full bucket, one minute's worth."""
    return per_minute


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, max_callers: int = 100_000, window_s: float = 60.0) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._max_callers = max_callers
        self._window_s = window_s

    def take(self, caller: str, per_minute: int, cost: int, now: float) -> int:
        """Spend `cost` tokens of `caller`: 0 if allowed, else the whole seconds until the
        bucket holds them (never more than the window). `per_minute` 0 means unlimited.
        Raises AboveBurst when `cost` is more than the bucket can ever hold."""
        if per_minute <= 0:
            return 0
        if cost > burst(per_minute):
            raise AboveBurst(burst(per_minute))
        rate = per_minute / self._window_s
        bucket = self._refilled(caller, per_minute, now)
        if cost <= bucket.tokens:
            bucket.tokens -= cost
            return 0
        return max(1, math.ceil((cost - bucket.tokens) / rate))

    def give_back(self, caller: str, per_minute: int, cost: int, now: float) -> None:
        """Return tokens taken for a request that turned out not to count against the
        caller (up to a full bucket)."""
        if per_minute > 0:
            bucket = self._refilled(caller, per_minute, now)
            bucket.tokens = min(burst(per_minute), bucket.tokens + cost)

    def _refilled(self, caller: str, per_minute: int, now: float) -> _Bucket:
        rate = per_minute / self._window_s
        bucket = self._buckets.get(caller)
        if bucket is None:
            self._make_room(now, rate, per_minute)
            bucket = self._buckets[caller] = _Bucket(float(burst(per_minute)), now)
        else:
            bucket.tokens = min(burst(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        return bucket

    def _make_room(self, now: float, rate: float, per_minute: int) -> None:
        # Callers whose bucket has refilled are indistinguishable from new ones: forget them.
        if len(self._buckets) < self._max_callers:
            return
        full = [
            c
            for c, b in self._buckets.items()
            if b.tokens + (now - b.updated) * rate >= burst(per_minute)
        ]
        for caller in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[caller]
