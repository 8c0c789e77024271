"""Freshness measurement: a steady load in ticks, acknowledgement times, and when the
totals (or a bare consumer) first covered each tick."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from aiokafka import TopicPartition

from bench import counter_load as load
from services.counter.settings import CounterSettings
from shared.kafka import durable_producer, manual_consumer

RATE, TICK_S, SECONDS = 2_000, 0.01, 15.0
FRESH_CASE = "bench-fresh"
Samples = list[tuple[float, int]]  # (monotonic time, cumulative actions)


async def warm_up(settings: CounterSettings, client: httpx.AsyncClient) -> None:
    """One action, read back: the counter has joined its group and serves reads."""
    producer = durable_producer(settings.kafka_bootstrap, "counter-bench", linger_ms=1)
    await producer.start()
    await load.send_tick(producer, settings.actions_topic, FRESH_CASE, 10**9, 1)
    await producer.stop()
    deadline = time.monotonic() + 60
    while await total(client) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("counter did not count the warm-up action")
        await asyncio.sleep(0.05)


async def total(client: httpx.AsyncClient) -> int:
    try:
        answer = await client.get(f"/v1/cases/{FRESH_CASE}/totals")
    except httpx.HTTPError:  # not listening yet
        return 0
    return int(answer.json()["total"]) if answer.status_code == 200 else 0


async def poll_api(client: httpx.AsyncClient, seen: Samples) -> None:
    while True:
        seen.append((time.monotonic(), await total(client)))
        await asyncio.sleep(0.005)


async def steady_load(settings: CounterSettings, start_index: int) -> Samples:
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


async def until_seen(seen: Samples, acks: Samples, offset: int, within: float = 30.0) -> None:
    """Until the observed total covers the last acknowledged tick (at most `within` s): on
    a loaded machine the last ticks may take longer than any fixed pause to show."""
    deadline = time.monotonic() + within
    while not seen or seen[-1][1] - offset < acks[-1][1]:
        if time.monotonic() > deadline:
            return  # `latencies` then says which never became visible
        await asyncio.sleep(0.01)


async def kafka_transit(settings: CounterSettings) -> list[float]:
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
    acks = await steady_load(settings, start_index=10**8)
    await until_seen(seen, acks, offset=0)
    receiver.cancel()
    await consumer.stop()
    return latencies(acks, seen, offset=0)


def latencies(acks: Samples, seen: Samples, offset: int) -> list[float]:
    """Per tick: first time the observed total covered it, minus its acknowledgement."""
    result, j = [], 0
    for acked_at, cumulative in acks:
        while j < len(seen) and seen[j][1] - offset < cumulative:
            j += 1
        if j == len(seen):
            raise RuntimeError("some actions never became visible")
        result.append(max(0.0, seen[j][0] - acked_at))
    return result


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return round(cuts[49] * 1000, 1), round(cuts[98] * 1000, 1)
