"""The rate limits' stores (domain/ports.py RateLimits): `RedisRateLimits`, counted in Redis
for every intake worker and instance together (sliding_window.py), and `LocalRateLimits`,
counted in this process alone (the fallback while Redis is unreachable, and the store
without Redis).

Checks are gathered: while one script run is in flight, the checks of the requests that
arrive meanwhile wait for the next, which asks for them all at once. One round trip per
request at most, and far fewer under load, when a round trip per request would cost the
event loop more than the rest of the request."""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.intake import metrics
from services.intake.adapters.sliding_window import SCRIPT, SLOTS
from services.intake.domain.rate_limit import RateLimiter

KEY_PREFIX = "plume:rate:"


def redis_key(caller: str) -> str:
    """A digest, so that no client address or key name sits in Redis, even for a minute."""
    return KEY_PREFIX + hashlib.blake2b(caller.encode(), digest_size=16).hexdigest()


MAX_BATCH = 500  # callers asked in one script run


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
        self._script = self._redis.register_script(SCRIPT)
        self._slot_ms = max(1, round(window_s * 1000 / SLOTS))
        self._longest_wait_s = max(1, math.ceil(window_s))  # Retry-After: at most the window
        self._fallback = LocalRateLimits(window_s)
        self._pause_s = pause_s
        self._paused_until = 0.0
        self._pending: list[_Check] = []
        self._asking: asyncio.Task[None] | None = None

    async def take(self, caller: str, limit: int, cost: int) -> int:
        if limit <= 0:
            return 0
        if time.monotonic() >= self._paused_until:
            check = _Check(
                redis_key(caller), limit, cost, asyncio.get_running_loop().create_future()
            )
            self._pending.append(check)
            if self._asking is None:
                self._asking = asyncio.create_task(self._ask_pending())
            wait_ms = await check.answer
            if wait_ms is not None:
                return min(self._longest_wait_s, math.ceil(wait_ms / 1000)) if wait_ms > 0 else 0
        return await self._fallback.take(caller, limit, cost)

    async def _ask_pending(self) -> None:
        batch: list[_Check] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                waits = await self._ask(batch)
                for check, wait_ms in zip(batch, waits, strict=True):
                    if not check.answer.done():  # done: its request was cancelled
                        check.answer.set_result(wait_ms)
        finally:
            self._asking = None
            # Cancelled (intake stopping) or failed: whoever still waits goes by the fallback.
            for check in batch + self._pending:
                if not check.answer.done():
                    check.answer.set_result(None)

    async def _ask(self, batch: list[_Check]) -> list[int | None]:
        args: list[int] = [self._slot_ms]
        for check in batch:
            args += [check.limit, check.cost]
        try:
            waits = await self._script(keys=[check.key for check in batch], args=args)
        except (RedisError, OSError, TimeoutError) as error:
            metrics.RATE_LIMIT_STORE_ERRORS.labels(type(error).__name__).inc()
            self._paused_until = time.monotonic() + self._pause_s
            return [None] * len(batch)
        return [int(wait) for wait in waits]

    async def close(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
        await self._redis.aclose()


@dataclass
class _Check:
    key: str
    limit: int
    cost: int
    answer: asyncio.Future[int | None]  # the wait in ms; None: Redis did not answer
