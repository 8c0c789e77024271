"""The rate limits' stores (domain/ports.py RateLimits): `RedisRateLimits`, counted in Redis
for every intake worker and instance together, and `LocalRateLimits`, counted in this
process alone (the fallback while Redis is unreachable, and the store without Redis).

In Redis each caller has a hash of per-slot counts, a slot being 1/60 of the window. One
atomic script per request sums the current slot and the 60 before it (a span a little
longer than the window, so that no window of that length ever holds more than the limit),
takes the cost when it fits, and otherwise answers how long until enough slots expire."""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.intake import metrics
from services.intake.domain.rate_limit import RateLimiter

SLOTS = 60
KEY_PREFIX = "plume:rate:"
# KEYS[1]: the caller's hash; ARGV: limit, cost, slot length in ms. Returns the wait in ms
# (0: taken). The server's clock, so that every instance agrees on the slots.
SLIDING_WINDOW = """
local limit, cost, slot_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local slots = 60
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = math.floor(now_ms / slot_ms)
local fields = redis.call('HGETALL', KEYS[1])
local used, live, stale = 0, {}, {}
for i = 1, #fields, 2 do
  local slot, count = tonumber(fields[i]), tonumber(fields[i + 1])
  if slot < current - slots then
    stale[#stale + 1] = fields[i]
  else
    used = used + count
    live[#live + 1] = {slot, count}
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
if used + cost <= limit then
  redis.call('HINCRBY', KEYS[1], current, cost)
  redis.call('PEXPIRE', KEYS[1], slot_ms * (slots + 2))
  return 0
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local excess = used + cost - limit
for _, entry in ipairs(live) do
  excess = excess - entry[2]
  if excess <= 0 then return (entry[1] + slots + 1) * slot_ms - now_ms end
end
return slots * slot_ms
"""


class LocalRateLimits:
    """Token buckets in this process (domain/rate_limit.py)."""

    def __init__(self, window_s: float = 60.0) -> None:
        self._buckets = RateLimiter(window_s=window_s)

    async def take(self, caller: str, limit: int, cost: int) -> int:
        return self._buckets.take(caller, limit, cost, time.monotonic())

    async def close(self) -> None:
        return None


class RedisRateLimits:
    """Fails open: while Redis does not answer, each process limits on its own (at most
    its number of processes times a limit), rather than refusing a campaign's supporters
    for an outage of ours. After an error Redis is left alone for `pause_s`, so that an
    unreachable Redis costs one timeout a second, not one per request."""

    def __init__(self, url: str, window_s: float, timeout_s: float, pause_s: float = 1.0) -> None:
        self._redis = Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._script = self._redis.register_script(SLIDING_WINDOW)
        self._slot_ms = max(1, round(window_s * 1000 / SLOTS))
        self._longest_wait_s = max(1, math.ceil(window_s))  # Retry-After: at most the window
        self._fallback = LocalRateLimits(window_s)
        self._pause_s = pause_s
        self._paused_until = 0.0

    async def take(self, caller: str, limit: int, cost: int) -> int:
        if limit <= 0:
            return 0
        if time.monotonic() < self._paused_until:
            return await self._fallback.take(caller, limit, cost)
        try:
            wait_ms = await self._script(
                keys=[KEY_PREFIX + caller], args=[limit, cost, self._slot_ms]
            )
        except (RedisError, OSError, TimeoutError) as error:
            metrics.RATE_LIMIT_STORE_ERRORS.labels(type(error).__name__).inc()
            self._paused_until = time.monotonic() + self._pause_s
            return await self._fallback.take(caller, limit, cost)
        if int(wait_ms) <= 0:
            return 0
        return min(self._longest_wait_s, max(1, math.ceil(int(wait_ms) / 1000)))

    async def close(self) -> None:
        await self._redis.aclose()
