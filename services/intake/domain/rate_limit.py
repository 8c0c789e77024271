"""Token buckets per caller: `per_minute` actions refill evenly over a minute and a full
minute's worth may be spent at once. Time is passed in, so the arithmetic is testable."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, max_callers: int = 100_000) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._max_callers = max_callers

    def take(self, caller: str, per_minute: int, cost: int, now: float) -> int:
        """Spend `cost` tokens of `caller`: 0 if allowed, else whole seconds to wait.
        `per_minute` 0 means unlimited. A cost above a minute's worth (a large batch) passes
        when the bucket is full and leaves it in debt, so the caller then waits longer."""
        if per_minute <= 0:
            return 0
        rate = per_minute / 60.0
        bucket = self._buckets.get(caller)
        if bucket is None:
            self._make_room(now, rate, per_minute)
            bucket = self._buckets[caller] = _Bucket(float(per_minute), now)
        else:
            bucket.tokens = min(per_minute, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        needed = min(cost, per_minute)
        if needed <= bucket.tokens:
            bucket.tokens -= cost
            return 0
        missing = needed - bucket.tokens
        return max(1, math.ceil(missing / rate))

    def _make_room(self, now: float, rate: float, per_minute: int) -> None:
        # Callers whose bucket has refilled are indistinguishable from new ones: forget them.
        if len(self._buckets) < self._max_callers:
            return
        full = [
            c for c, b in self._buckets.items() if b.tokens + (now - b.updated) * rate >= per_minute
        ]
        for caller in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[caller]
