"""The probe's batch scenario: many concurrent large batches from one partner key, as
partners send them at a peak (issue 9: 30 of 4 MiB took intake past 1 GB, and healthy
Kafka was reported down). Prints the answers, intake's peak memory and /healthz latency."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import orjson

from ops.endpoints import Endpoints, temporary_keys
from ops.measure import Latencies, PeakMemory, healthz, monitor_client, rss_mb, sample_healthz
from shared.apikeys import Scope

BATCH_ITEMS = 1_000


def batch_body(case_id: str, size: int) -> bytes:
    """BATCH_ITEMS letters whose messages fill the body to about `size` bytes."""
    filler = "We stand with you. "
    length = max(1, min(5_000, (size - 2_000) // BATCH_ITEMS - 120))
    message = (filler * (length // len(filler) + 1))[:length].strip()
    actions: list[dict[str, Any]] = [
        {"action_id": str(uuid.uuid4()), "case_id": case_id, "type": "letter", "message": message}
        for _ in range(BATCH_ITEMS)
    ]
    return orjson.dumps({"actions": actions})


async def batches(ep: Endpoints, case_id: str, count: int, size: int) -> None:
    bodies = [batch_body(case_id, size) for _ in range(count)]
    before, floor = rss_mb("intake"), await sample_healthz(ep.intake, 20)
    memory, latencies, stop = PeakMemory("intake"), Latencies(), asyncio.Event()

    async def watch_healthz() -> None:
        async with monitor_client() as client:
            while not stop.is_set():
                await healthz(client, ep.intake, latencies)
                await asyncio.sleep(0.2)

    async with temporary_keys("probe", {"partner": {Scope.ACTIONS_BATCH}}) as keys:
        headers = {"X-API-Key": keys["partner"], "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=count)
        watchers = [asyncio.create_task(memory.watch(stop)), asyncio.create_task(watch_healthz())]
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"{ep.intake}/v1/actions/batch", content=b, headers=headers)
                    for b in bodies
                ),
                return_exceptions=True,
            )
        took = time.monotonic() - started
        stop.set()
        await asyncio.gather(*watchers)
    outcome = Counter(
        a.status_code if isinstance(a, httpx.Response) else type(a).__name__ for a in answers
    )
    accepted = sum(
        a.json()["accepted"] for a in answers if isinstance(a, httpx.Response) and a.is_success
    )
    refusals = Counter(
        a.json().get("title") for a in answers if isinstance(a, httpx.Response) and a.is_error
    )
    print(f"batches: {count} concurrent batches of {len(bodies[0]) / 2**20:.2f} MiB, one key")
    print(f"  answers: {dict(outcome)} in {took:.1f} s; actions accepted: {accepted}")
    if refusals:
        print(f"  refusals: {dict(refusals)}")
    print(f"  intake RSS: {before:.0f} MB before, peak {memory.peak:.0f} MB")
    print(f"  /healthz before: {floor.line()}")
    print(f"  /healthz meanwhile: {latencies.line()}")
