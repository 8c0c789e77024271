"""The bounded load generator of `make chaos` and `make demo`, and the one way plume's own
clients post an action: retried with its own `action_id` until a definite answer.

A 503 (or a timeout, or a connection cut mid-answer) means "not acknowledged, outcome
unknown" (contract v2): the write may still land, so the client sends the same action
again, with the same id, and the counter counts it once whatever happened before.

Bounded: at most `cap` requests are in flight at once (retries included). A request that
would go past the cap is not sent and is counted as such, so a slow or stuck server makes
the generator send less, never queue more (an ever-growing queue in httpx's connection
pool costs CPU quadratic in its length)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

MAX_RETRY_PAUSE_S = 30.0
# Longer than intake takes to answer a write Kafka is slow to acknowledge (its
# PRODUCE_TIMEOUT_S, 8 s): a client that gave up first would count a refusal intake never gave.
CLIENT_TIMEOUT_S = 20.0


class Outcome(StrEnum):
    OK = "ok"  # 202: intake says Kafka has it; must count exactly once
    REFUSED = "refused"  # a definite no, or never reached a server: must never count
    UNKNOWN = "unknown"  # never acknowledged, but an attempt may have landed: at most once


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic() when the answer (or the error) came
    status: int | None
    error: str | None = None

    @property
    def refused_write(self) -> bool:
        """Intake could not take the write now (the answer a client retries)."""
        return self.status in (429, 503) or (self.status is None and self.error is not None)


@dataclass
class Posted:
    """What came of one action, over all its attempts."""

    outcome: Outcome
    attempts: list[Attempt] = field(default_factory=list)
    body: Any = None  # the last answer's JSON body, when it had one


@dataclass(frozen=True)
class RetryPolicy:
    give_up_after_s: float = 60.0  # then the action is left UNKNOWN (or REFUSED)
    max_pause_s: float = 1.0  # Retry-After is honoured up to this pause
    first_pause_s: float = 0.05


def definite(status: int) -> bool:
    """An answer that settles the action: accepted, or refused for good (a 4xx other than
    429 says the same thing again on every retry)."""
    return status == 202 or status == 200 or (400 <= status < 500 and status != 429)


def may_have_landed(attempt: Attempt) -> bool:
    """Did this attempt reach intake without a definite answer? A connection refused never
    did; a timeout, a cut answer or a 5xx may have been written before the answer failed."""
    if attempt.status is None:
        return attempt.error != "ConnectError"
    return attempt.status >= 500


def settle(attempts: list[Attempt]) -> Outcome:
    last = attempts[-1]
    if last.status is not None and last.status in (200, 202):
        return Outcome.OK
    if any(may_have_landed(a) for a in attempts):
        return Outcome.UNKNOWN
    return Outcome.REFUSED


async def post_action(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    policy: RetryPolicy | None = None,
) -> Posted:
    """POST `body` until a definite answer or `policy.give_up_after_s`. When intake names
    the action_id it assigned (a 503 for a body without one), the retries carry it."""
    policy = policy or RetryPolicy()
    attempts: list[Attempt] = []
    give_up_at = time.monotonic() + policy.give_up_after_s
    pause = policy.first_pause_s
    answer_body: Any = None
    while True:
        status, error, retry_after = None, None, None
        try:
            answer = await client.post(url, json=body, headers=headers)
            status = answer.status_code
            retry_after = _seconds(answer.headers.get("retry-after"))
            answer_body = _json(answer)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        attempts.append(Attempt(time.monotonic(), status, error))
        if status is not None and definite(status):
            break
        body = _with_assigned_id(body, answer_body)
        wait = min(retry_after if retry_after is not None else pause, policy.max_pause_s)
        if time.monotonic() + wait >= give_up_at:
            break
        await asyncio.sleep(wait)
        pause = min(pause * 2, policy.max_pause_s)
    return Posted(settle(attempts), attempts, answer_body)


def _with_assigned_id(body: Any, answer: Any) -> Any:
    """`body` carrying the ids a 503 named for it: `action_id` for one action,
    `action_ids` (item by item) for a batch; ids the client gave stay."""
    if not (isinstance(body, dict) and isinstance(answer, dict)):
        return body
    assigned, items = answer.get("action_id"), body.get("actions")
    if "action_id" not in body and isinstance(assigned, str) and items is None:
        return {**body, "action_id": assigned}
    named = answer.get("action_ids")
    if isinstance(items, list) and isinstance(named, list) and len(named) == len(items):
        return {**body, "actions": [_given(i, n) for i, n in zip(items, named, strict=True)]}
    return body


def _given(item: Any, named: Any) -> Any:
    if isinstance(item, dict) and "action_id" not in item and isinstance(named, str):
        return {**item, "action_id": named}
    return item


def _seconds(value: str | None) -> float | None:
    try:
        return min(float(value), MAX_RETRY_PAUSE_S) if value is not None else None
    except ValueError:
        return None


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


class BoundedLoad:
    """Runs request coroutines with at most `cap` in flight; what would exceed the cap is
    not started and counted in `not_sent`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.not_sent = 0
        self.most_in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def offer(self, request: Callable[[], Awaitable[None]]) -> bool:
        if len(self._tasks) >= self.cap:
            self.not_sent += 1
            return False

        async def run() -> None:
            await request()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.most_in_flight = max(self.most_in_flight, len(self._tasks))
        return True

    async def drain(self, within: float) -> int:
        """Wait up to `within` seconds for the requests in flight; cancel the rest and
        return how many were cancelled (their actions stay unsettled)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
        left = list(self._tasks)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return len(left)


async def open_loop(
    load: BoundedLoad,
    rate: float,
    stop: asyncio.Event,
    make_request: Callable[[int], Callable[[], Awaitable[None]]],
) -> int:
    """Offer request n at time n / rate until `stop`; return how many were due."""
    loop = asyncio.get_running_loop()
    started, n = loop.time(), 0
    while not stop.is_set():
        due = int((loop.time() - started) * rate)
        while n < due:
            load.offer(make_request(n))
            n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.01)
    return n
