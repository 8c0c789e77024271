"""faststream's KafkaBroker publisher beside `shared.sending.send_all` over raw aiokafka
(`python -m bench faststream`, also part of `make bench`): N keyed event records like the
counter's totals (acks=all, idempotent, the same linger and batch size), to a throwaway
topic of the stack's Kafka. It decides whether the event publishers move to faststream.

Rounds alternate (raw, faststream, raw, ...) and the best of 5 is kept, because other
stacks share these cores. faststream is measured the two ways it can be used: awaiting
each `publish` (its default, a round trip per record, so on a smaller N) and
`publish(..., no_confirm=True)` gathered like `send_all` (the same pipelining)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.contracts.totals import CaseTotals
from shared.kafka import durable_producer, encode
from shared.sending import send_all
from shared.settings import InfraSettings

RECORDS = 20_000
AWAITED_RECORDS = 1_000  # awaiting each publish costs a round trip: bounded smaller
ROUNDS = 5
PARTITIONS = 6
CASES = [f"case-{i}" for i in range(200)]


def events(n: int) -> list[tuple[bytes, CaseTotals]]:
    now = datetime.now(UTC)
    return [
        (
            (case := CASES[i % len(CASES)]).encode(),
            CaseTotals(
                case_id=case,
                total=i,
                by_type={"signature": i},
                by_country={"FR": i},
                by_channel={"web": i},
                updated_at=now,
                revision=i,
            ),
        )
        for i in range(n)
    ]


async def raw_rate(bootstrap: str, topic: str, batch: list[tuple[bytes, Any]]) -> float:
    producer = durable_producer(bootstrap, "bench-raw")
    await producer.start()
    try:
        started = time.perf_counter()
        await send_all(producer, topic, [(key, encode(event)) for key, event in batch])
        return len(batch) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def faststream_broker(bootstrap: str) -> KafkaBroker:
    """Configured like `shared.kafka.durable_producer` (acks=all, idempotent, same batching)."""
    return KafkaBroker(
        bootstrap,
        client_id="bench-faststream",
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=5_000,
        retry_backoff_ms=100,
        apply_types=False,
    )


async def faststream_rate(
    bootstrap: str, topic: str, batch: list[tuple[bytes, Any]], pipelined: bool
) -> float:
    broker = faststream_broker(bootstrap)
    publisher = broker.publisher(topic)
    await broker.start()
    try:
        started = time.perf_counter()
        if pipelined:
            futures = [
                await publisher.publish(event, key=key, no_confirm=True) for key, event in batch
            ]
            await asyncio.gather(*futures)
        else:
            for key, event in batch:
                await publisher.publish(event, key=key)
        return len(batch) / (time.perf_counter() - started)
    finally:
        await broker.stop()


async def measure(bootstrap: str, topic: str) -> dict[str, float]:
    best = {"raw": 0.0, "pipelined": 0.0, "raw_small": 0.0, "awaited": 0.0}
    big, small = events(RECORDS), events(AWAITED_RECORDS)
    await raw_rate(bootstrap, topic, small)  # warm-up: metadata, idempotence id
    for _ in range(ROUNDS):
        best["raw"] = max(best["raw"], await raw_rate(bootstrap, topic, big))
        fast = await faststream_rate(bootstrap, topic, big, pipelined=True)
        best["pipelined"] = max(best["pipelined"], fast)
        best["raw_small"] = max(best["raw_small"], await raw_rate(bootstrap, topic, small))
        awaited = await faststream_rate(bootstrap, topic, small, pipelined=False)
        best["awaited"] = max(best["awaited"], awaited)
    return best


async def run() -> list[dict[str, Any]]:
    bootstrap = InfraSettings().kafka_bootstrap
    topic = f"bench.faststream.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        best = await measure(bootstrap, topic)
    finally:
        await admin.delete_topics([topic])
        await admin.close()
    floor = "send_all over raw aiokafka, same records"
    return [
        _row(
            f"{RECORDS:,} keyed events, faststream no_confirm + gather ({floor})",
            best,
            "pipelined",
            "raw",
        ),
        _row(
            f"{AWAITED_RECORDS:,} keyed events, faststream awaiting each publish ({floor})",
            best,
            "awaited",
            "raw_small",
        ),
    ]


def _row(name: str, best: dict[str, float], figure: str, floor: str) -> dict[str, Any]:
    return {
        "name": name,
        "figure": round(best[figure]),
        "unit": "records/s",
        "floor": round(best[floor]),
        "ratio": best[figure] / best[floor],
        "target": "informative (>= 0.9 to move publishers)",
    }
