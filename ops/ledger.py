"""What a chaos run sent and what came of each action, for checking afterwards."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from ops.load import (
    CLIENT_TIMEOUT_S,
    Attempt,
    BoundedLoad,
    Outcome,
    RetryPolicy,
    open_loop,
    post_action,
)

__all__ = ["Outcome", "RequestLog", "Sent", "steady_load"]


@dataclass(frozen=True)
class Sent:
    action_id: str
    name: str
    consent: bool
    outcome: Outcome


@dataclass
class RequestLog:
    case_id: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    sent: list[Sent] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)  # of every action, in order
    not_sent: int = 0  # due while `cap` requests were in flight: never sent
    cancelled: int = 0  # still retrying when the load stopped: left unknown

    def count(self, outcome: Outcome) -> int:
        return sum(1 for s in self.sent if s.outcome is outcome)

    def ids(self, outcome: Outcome) -> set[str]:
        return {s.action_id for s in self.sent if s.outcome is outcome}

    def action(self, n: int) -> tuple[dict[str, Any], Sent]:
        action_id = str(uuid.uuid4())
        consent = n % 10 < 7
        name = f"Chaos {self.run} {n:07d}"
        body = {
            "action_id": action_id,
            "case_id": self.case_id,
            "type": "signature",
            "supporter": {
                "name": name,
                "email": f"chaos-{self.run}-{n}@example.org",
                "country": "FR",
            },
            "consent": {"share_name_with_target": consent},
        }
        return body, Sent(action_id, name, consent, Outcome.UNKNOWN)

    def accepted_between(self, start: float, end: float) -> int:
        """Acknowledged writes (202) answered in [start, end)."""
        return sum(1 for a in self.attempts if a.status == 202 and start <= a.at < end)

    def refusals_between(self, start: float, end: float) -> list[Attempt]:
        """The refused write attempts answered in [start, end), oldest first."""
        refused = [a for a in self.attempts if a.refused_write and start <= a.at < end]
        return sorted(refused, key=lambda attempt: attempt.at)

    def refused_between(self, start: float, end: float) -> tuple[int, float]:
        """Refused write attempts in [start, end) and the seconds from the first to the
        last of them (0 when there was none)."""
        times = [a.at for a in self.refusals_between(start, end)]
        return len(times), (times[-1] - times[0]) if times else 0.0


async def steady_load(
    log: RequestLog,
    url: str,
    key: str,
    rate: float,
    stop: asyncio.Event,
    cap: int = 32,
    policy: RetryPolicy | None = None,
) -> None:
    """Post signatures at `rate` per second until `stop`, at most `cap` in flight, each
    retried with its action_id until settled; record every outcome. Returns at most
    `policy.give_up_after_s` after `stop`, whatever intake does."""
    # As many connections as requests in flight: none ever waits in httpx's pool.
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
    load, policy = BoundedLoad(cap), policy or RetryPolicy()
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_S, limits=limits) as client:

        def request(n: int) -> Any:
            async def send() -> None:
                body, sent = log.action(n)
                headers = {"X-API-Key": key}
                try:
                    posted = await post_action(client, f"{url}/v1/actions", body, headers, policy)
                except asyncio.CancelledError:  # stopped while retrying: may have landed
                    log.sent.append(sent)  # outcome UNKNOWN
                    raise
                log.attempts.extend(posted.attempts)
                log.sent.append(Sent(sent.action_id, sent.name, sent.consent, posted.outcome))

            return send

        await open_loop(load, rate, stop, request)
        cancelled = await load.drain(within=policy.give_up_after_s)
    log.not_sent += load.not_sent
    log.cancelled += cancelled
