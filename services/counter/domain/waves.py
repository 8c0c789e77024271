"""Waves: per case, how many actions each network, email domain and source sent in the
recent window, against that key's usual rate. A key is flagged when its window holds at
least `min_actions` and its rate is at least `factor` times its usual rate.

The window is exact to a bucket (a ring of per-bucket counts). The usual rate is an
exponentially weighted mean of the buckets that have left the window (time constant
`usual_s`), so a wave does not raise its own baseline while it is being judged; it is
corrected for the time the detector has watched (a key never seen is usually at zero).

Memory is bounded: a key is kept only while its window holds actions or its usual rate
could still hold back a flag (at or above min_actions / (factor · window_s): below it the
minimum decides alone, so forgetting the key changes no verdict), and never more than
`max_keys` keys (the least active are dropped first)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.counter.domain.model import LedgerEntry

NETWORK, DOMAIN, SOURCE = "network", "domain", "source"
KINDS = (NETWORK, DOMAIN, SOURCE)
WEB = "web"  # networks and domains are judged on browser traffic only (README)

Key = tuple[str, str, str]  # case id, kind, hash (or source name)


@dataclass(frozen=True)
class Thresholds:
    window_s: float = 60.0
    bucket_s: float = 5.0
    usual_s: float = 3600.0
    factor: float = 10.0
    min_actions: int = 50
    warmup_s: float = 300.0
    max_keys: int = 100_000


@dataclass(frozen=True)
class Wave:
    case_id: str
    kind: str
    key: str
    actions: int  # in the window
    usual: float  # actions a window usually holds from this key


class _Rate:
    __slots__ = ("recent", "usual", "usual_at")

    def __init__(self, usual_at: int, recent: dict[int, int]) -> None:
        self.usual_at = usual_at  # the last bucket folded into `usual`
        self.usual = 0.0  # actions per bucket, exponentially weighted
        self.recent = recent  # bucket -> actions, for the buckets in the window


class WaveDetector:
    def __init__(self, thresholds: Thresholds, now: float) -> None:
        self.t = thresholds
        self.buckets = max(1, math.ceil(thresholds.window_s / thresholds.bucket_s))
        self.alpha = math.exp(-thresholds.bucket_s / thresholds.usual_s)
        self.started_s = now
        self.first = self._bucket(now)
        self.rates: dict[Key, _Rate] = {}
        floor = thresholds.min_actions / (thresholds.factor * thresholds.window_s)
        self.floor = floor * thresholds.bucket_s  # per bucket, as `usual` is kept

    def observe(self, entries: Sequence[LedgerEntry], now: float) -> None:
        """Count newly counted actions (one each, whatever their `count`). Counted in C
        (Counter over generators), then one update per key: this runs for every batch."""
        keys = Counter((e.case_id, SOURCE, e.source) for e in entries)
        web = [e for e in entries if e.channel == WEB]
        keys.update((e.case_id, NETWORK, e.network_hash) for e in web if e.network_hash)
        keys.update((e.case_id, DOMAIN, e.email_domain_hash) for e in web if e.email_domain_hash)
        bucket, rates = self._bucket(now), self.rates
        oldest = bucket - self.buckets
        for key, count in keys.items():
            rate = rates.get(key)
            if rate is None:
                rates[key] = _Rate(oldest, {bucket: count})
                continue
            recent = rate.recent
            if recent and next(iter(recent)) <= oldest:  # buckets are added in time order
                self._roll(rate, bucket)
            recent[bucket] = recent.get(bucket, 0) + count
        if len(rates) > self.t.max_keys:
            self._prune(bucket, hard=True)

    def waves(self, now: float) -> list[Wave]:
        """The keys far above their usual rate now (none while warming up); prunes."""
        bucket = self._bucket(now)
        self._prune(bucket)
        if now - self.started_s < self.t.warmup_s:
            return []
        found = []
        for (case_id, kind, key), rate in self.rates.items():
            actions = sum(rate.recent.values())
            if actions < self.t.min_actions:
                continue
            usual = self._usual(rate, bucket) * self.buckets
            if actions >= self.t.factor * usual:
                found.append(Wave(case_id, kind, key, actions, round(usual, 3)))
        return sorted(found, key=lambda w: (w.case_id, w.kind, -w.actions))

    def forget(self, case_id: str, kind: str, key: str) -> None:
        """Drop a key's counts (its wave was invalidated: what comes next is judged anew)."""
        self.rates.pop((case_id, kind, key), None)

    def _bucket(self, now: float) -> int:
        return int(now // self.t.bucket_s)

    def _roll(self, rate: _Rate, bucket: int) -> None:
        """Fold the buckets that left the window into the usual rate."""
        oldest = bucket - self.buckets
        for gone in sorted(b for b in rate.recent if b <= oldest):
            rate.usual = rate.usual * self.alpha ** (gone - rate.usual_at) + (
                1 - self.alpha
            ) * rate.recent.pop(gone)
            rate.usual_at = gone

    def _usual(self, rate: _Rate, bucket: int) -> float:
        """Actions per bucket usually: decayed to now, corrected for the time watched."""
        oldest = bucket - self.buckets
        watched = oldest - (self.first - self.buckets)  # buckets folded since the start
        if watched <= 0:
            return 0.0
        decayed = rate.usual * self.alpha ** (oldest - rate.usual_at)
        return decayed / (1 - self.alpha**watched)

    def _prune(self, bucket: int, hard: bool = False) -> None:
        for key, rate in list(self.rates.items()):
            self._roll(rate, bucket)
            if not rate.recent and self._usual(rate, bucket) < self.floor:
                del self.rates[key]
        if hard and len(self.rates) > self.t.max_keys:
            by_activity = sorted(
                self.rates, key=lambda k: sum(self.rates[k].recent.values()) + self.rates[k].usual
            )
            for key in by_activity[: len(self.rates) - self.t.max_keys // 2]:
                del self.rates[key]
