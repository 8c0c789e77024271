"""What a chaos run sent and what came of each request, for checking afterwards."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx


class Outcome(StrEnum):
    OK = "ok"  # 202: intake says Kafka has it
    REFUSED = "refused"  # a definite no (4xx, 503, connection refused): must never count
    UNKNOWN = "unknown"  # timed out or cut mid-answer: may or may not count, at most once


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


def classify(status: int | None, error: Exception | None) -> Outcome:
    if isinstance(error, httpx.ConnectError):
        return Outcome.REFUSED  # the request never reached a server
    if error is not None or status is None:
        return Outcome.UNKNOWN
    if status == 202:
        return Outcome.OK
    if 400 <= status < 500 or status == 503:
        return Outcome.REFUSED
    return Outcome.UNKNOWN


async def steady_load(
    log: RequestLog, url: str, key: str, rate: float, stop: asyncio.Event
) -> None:
    """Post signatures at `rate` per second until `stop`, recording every outcome."""
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(timeout=5, limits=limits) as client:
        n, pending = 0, set[asyncio.Task[None]]()
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not stop.is_set():
            due = int((loop.time() - started) * rate)
            while n < due:
                pending.add(asyncio.create_task(_post(client, url, key, log, n)))
                n += 1
            pending = {t for t in pending if not t.done()}
            await asyncio.sleep(0.01)
        await asyncio.gather(*pending)


async def _post(client: httpx.AsyncClient, url: str, key: str, log: RequestLog, n: int) -> None:
    body, sent = log.action(n)
    status: int | None = None
    error: Exception | None = None
    try:
        status = (
            await client.post(f"{url}/v1/actions", json=body, headers={"X-API-Key": key})
        ).status_code
    except httpx.HTTPError as exc:
        error = exc
    log.sent.append(Sent(sent.action_id, sent.name, sent.consent, classify(status, error)))
