"""Counter benchmarks (`make bench`): consume-and-count throughput on a pre-filled topic
beside a naive one-UPDATE-per-action baseline, and freshness p99 at a steady 2,000
actions/s beside the bare Kafka transit time, each measured in the same run."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench import counter_load as load
from services.counter.settings import CounterSettings
from shared.kafka import durable_producer, manual_consumer
from tests.throwaway import free_port

PREFILL = 500_000
RATE, TICK_S, SECONDS = 2_000, 0.01, 15.0
FRESH_CASE = "bench-fresh"
Samples = list[tuple[float, int]]  # (monotonic time, cumulative actions)


async def run() -> list[dict[str, Any]]:
    load.check_encoding()
    rate, naive = await throughput()
    p50, p99, transit50, transit99 = await freshness()
    return [
        {
            "name": "counter consume-and-count, 500k pre-filled (floor: naive UPDATE+1/action)",
            "figure": round(rate),
            "unit": "actions/s",
            "floor": round(naive),
            "ratio": rate / naive,
            "target": ">= 50,000 (goal 100,000)",
        },
        {
            "name": "counter freshness p99 at 2,000 actions/s (floor: bare Kafka transit p99)",
            "figure": p99,
            "unit": "ms",
            "floor": transit99,
            "ratio": p99 / transit99,
            "target": "<= 500 (goal 200)",
        },
        {
            "name": "counter freshness p50 at 2,000 actions/s (floor: bare Kafka transit p50)",
            "figure": p50,
            "unit": "ms",
            "floor": transit50,
            "ratio": p50 / transit50,
            "target": "",
        },
    ]


async def throughput() -> tuple[float, float]:
    settings = load.isolated_settings()
    await load.create_topics(settings)
    await load.prefill(settings, PREFILL)
    process = load.start_counter(settings, free_port(), _log("throughput"))
    conn = await asyncpg.connect(settings.database_url)
    try:
        first, started = 0, 0.0
        deadline = time.monotonic() + 600
        while (done := await load.committed(conn, settings.db_schema)) < PREFILL:
            if not first and done:
                first, started = done, time.monotonic()
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"counter did not drain the topic ({done}/{PREFILL})")
            await asyncio.sleep(0.02)
        rate = (PREFILL - first) / (time.monotonic() - started)
        counted = await conn.fetchval(f'SELECT sum(total) FROM "{settings.db_schema}".case_totals')
        if counted != PREFILL:
            raise RuntimeError(f"counted {counted} of {PREFILL}: totals are wrong")
    finally:
        process.terminate()
        process.wait(timeout=30)
        await conn.close()
    naive = await load.naive_rate(settings, limit=50_000, seconds=15.0)
    print(f"counter {rate:,.0f} actions/s, naive {naive:,.0f} actions/s", flush=True)
    await _clean(settings)
    return rate, naive


async def freshness() -> tuple[float, float, float, float]:
    settings = load.isolated_settings()
    await load.create_topics(settings)
    port = free_port()
    process = load.start_counter(settings, port, _log("freshness"))
    try:
        seen: Samples = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
            await _warm_up(settings, client)
            poller = asyncio.create_task(_poll_api(client, seen))
            acks = await _steady_load(settings, start_index=1)
            await asyncio.sleep(0.5)
            poller.cancel()
        counter_latency = _latencies(acks, seen, offset=1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    transit = await _kafka_transit(settings)
    await _clean(settings)
    return (*_percentiles(counter_latency), *_percentiles(transit))


async def _warm_up(settings: CounterSettings, client: httpx.AsyncClient) -> None:
    """One action, read back: the counter has joined its group and serves reads."""
    producer = durable_producer(settings.kafka_bootstrap, "counter-bench", linger_ms=1)
    await producer.start()
    await load.send_tick(producer, settings.actions_topic, FRESH_CASE, 10**9, 1)
    await producer.stop()
    deadline = time.monotonic() + 60
    while await _total(client) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("counter did not count the warm-up action")
        await asyncio.sleep(0.05)


async def _total(client: httpx.AsyncClient) -> int:
    try:
        answer = await client.get(f"/v1/cases/{FRESH_CASE}/totals")
    except httpx.HTTPError:  # not listening yet
        return 0
    return int(answer.json()["total"]) if answer.status_code == 200 else 0


async def _poll_api(client: httpx.AsyncClient, seen: Samples) -> None:
    while True:
        seen.append((time.monotonic(), await _total(client)))
        await asyncio.sleep(0.005)


async def _steady_load(settings: CounterSettings, start_index: int) -> Samples:
    """RATE actions/s in ticks; returns (ack time, cumulative actions sent) per tick."""
    producer = durable_producer(settings.kafka_bootstrap, "counter-bench", linger_ms=1)
    await producer.start()
    per_tick, ticks = int(RATE * TICK_S), int(SECONDS / TICK_S)
    begin = time.monotonic()
    tasks = []
    for k in range(ticks):
        await asyncio.sleep(max(0.0, begin + k * TICK_S - time.monotonic()))
        first = start_index + k * per_tick
        send = load.send_tick(producer, settings.actions_topic, FRESH_CASE, first, per_tick)
        tasks.append(asyncio.create_task(send))
    acked = await asyncio.gather(*tasks)
    await producer.stop()
    return [(t, (k + 1) * per_tick) for k, t in enumerate(acked)]


async def _kafka_transit(settings: CounterSettings) -> list[float]:
    """The floor: the same load, timed to a bare consumer receiving it."""
    consumer = manual_consumer(settings.kafka_bootstrap, None, "transit-bench")
    await consumer.start()
    partitions = [TopicPartition(settings.actions_topic, p) for p in range(load.PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    seen: Samples = []

    async def receive() -> None:
        received = 0
        while True:
            batches = await consumer.getmany(timeout_ms=5)
            received += sum(len(records) for records in batches.values())
            seen.append((time.monotonic(), received))

    receiver = asyncio.create_task(receive())
    acks = await _steady_load(settings, start_index=10**8)
    await asyncio.sleep(0.5)
    receiver.cancel()
    await consumer.stop()
    return _latencies(acks, seen, offset=0)


def _latencies(acks: Samples, seen: Samples, offset: int) -> list[float]:
    """Per tick: first time the observed total covered it, minus its acknowledgement."""
    result, j = [], 0
    for acked_at, cumulative in acks:
        while j < len(seen) and seen[j][1] - offset < cumulative:
            j += 1
        if j == len(seen):
            raise RuntimeError("some actions never became visible")
        result.append(max(0.0, seen[j][0] - acked_at))
    return result


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return round(cuts[49] * 1000, 1), round(cuts[98] * 1000, 1)


def _log(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"plume-counter-bench-{name}.log"


async def _clean(settings: CounterSettings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
    await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    topics = [settings.actions_topic, settings.totals_topic, settings.milestones_topic]
    await admin.delete_topics([*topics, settings.dlq_topic])
    await admin.close()
