"""Counter benchmarks (`make bench`): consume-and-count throughput on a pre-filled topic
beside two floors read from the same topic in the same run: copying the records into a
ledger-shaped table (what any consumer must at least do) and a naive one-UPDATE-per-action
baseline; the same on events carrying sealed fields beside plain ones; and freshness p99
at a steady 2,000 actions/s beside the bare Kafka transit."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx

from bench import counter_freshness as fresh
from bench import counter_load as load
from bench.counter_floor import copy_rate
from bench.counter_naive import naive_rate
from bench.options import scaled
from services.counter.settings import CounterSettings
from shared.kafka import delete_topics

PREFILL = 500_000  # times --scale


async def run() -> list[dict[str, Any]]:
    load.check_encoding()
    measured = await throughput()
    rate, two, naive, copy = measured.one, measured.two, measured.naive, measured.copy
    plain, sealed = measured.plain, measured.sealed
    p50, p99, transit50, transit99 = await freshness()
    return [
        {
            "name": f"counter consume-and-count, {scaled(PREFILL):,} pre-filled "
            "(floor: the same records read and COPYed into a ledger-shaped table)",
            "figure": round(rate),
            "unit": "actions/s",
            "floor": round(copy),
            "ratio": rate / copy,
            "target": "ratio >= 0.4",
        },
        {
            "name": "the same (floor: naive UPDATE+1 per action)",
            "figure": round(rate),
            "unit": "actions/s",
            "floor": round(naive),
            "ratio": rate / naive,
            "target": ">= 50,000 (goal 100,000)",
        },
        {
            "name": "the same with two counter processes in one group",
            "figure": round(two),
            "unit": "actions/s",
            "floor": round(naive),
            "ratio": two / naive,
            "target": ">= 50,000 (goal 100,000)",
        },
        {
            "name": "the same on events each carrying a sealed name and a data key's id, as "
            "intake writes them (floor: plain events, drained just before)",
            "figure": round(sealed.rate),
            "unit": "actions/s",
            "floor": round(plain.rate),
            "ratio": sealed.rate / plain.rate,
            "target": "",
        },
        {
            "name": "counter CPU µs per action, sealed events vs plain (lower is better)",
            "figure": round(sealed.cpu_us, 1),
            "unit": "µs",
            "floor": round(plain.cpu_us, 1),
            "ratio": sealed.cpu_us / plain.cpu_us,
            "target": "",
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


class Throughput(NamedTuple):
    one: float  # actions/s: one counter process
    two: float  # two processes in one group
    naive: float
    copy: float
    plain: load.Drained  # one process again: rate and CPU per action
    sealed: load.Drained  # the same on sealed events


async def throughput() -> Throughput:
    """Actions/s draining one pre-filled topic with one counter process, then a topic of
    sealed events the same way at once (so the machine's drift falls little between
    them), then the first topic with two processes (each from scratch: own schema and
    group), then the floors on it."""
    settings, sealed = load.isolated_settings(), load.isolated_settings()
    size = scaled(PREFILL)
    for each, sealer in ((settings, None), (sealed, load.name_sealer())):
        await load.create_topics(each)
        await load.prefill(each, size, sealer)
    one = await load.drain(settings, 1, size, _log("throughput"))
    await _drop_schema(settings)
    on_sealed = await load.drain(sealed, 1, size, _log("throughput"))
    await _clean(sealed)
    suffix = settings.db_schema.rsplit("_", 1)[-1]
    second = settings.model_copy(
        update={"db_schema": f"counter_bench2_{suffix}", "group_id": f"bench2-{suffix}"}
    )
    two = (await load.drain(second, 2, size, _log("throughput"))).rate
    await _drop_schema(second)
    copy = await copy_rate(settings, size)
    await _drop_schema(settings)
    naive = await naive_rate(settings, limit=50_000, seconds=15.0)
    print(
        f"counter {one.rate:,.0f} / {two:,.0f} (2 processes), on sealed events "
        f"{on_sealed.rate:,.0f}, copy floor {copy:,.0f}, naive {naive:,.0f}",
        flush=True,
    )
    await _clean(settings)
    return Throughput(one.rate, two, naive, copy, one, on_sealed)


async def freshness() -> tuple[float, float, float, float]:
    settings = load.isolated_settings()
    await load.create_topics(settings)
    port = load.free_port()
    process = load.start_counter(settings, port, _log("freshness"))
    try:
        seen: fresh.Samples = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
            await fresh.warm_up(settings, client)
            poller = asyncio.create_task(fresh.poll_api(client, seen))
            acks = await fresh.steady_load(settings, start_index=1)
            await fresh.until_seen(seen, acks, offset=1)
            poller.cancel()
        counter_latency = fresh.latencies(acks, seen, offset=1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    transit = await fresh.kafka_transit(settings)
    await _clean(settings)
    return (*fresh.percentiles(counter_latency), *fresh.percentiles(transit))


def _log(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"plume-counter-bench-{name}.log"


async def _drop_schema(settings: CounterSettings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
    await conn.close()


async def _clean(settings: CounterSettings) -> None:
    await _drop_schema(settings)
    names = [t.name for t in settings.own_topics(actions_partitions=1)]
    await delete_topics(settings.kafka_bootstrap, names)
