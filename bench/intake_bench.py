"""Intake benchmarks (`make bench`): single POST throughput (closed loop), anonymous and
with an API key (a partner's path), p99 at a constant rate (open loop) of a quarter of the
floor's own throughput, batch actions/s (always with a key), and intake's peak RSS. Each
figure sits beside a floor measured in the same run on the same machine: the same uvicorn
serving a no-op ASGI app for HTTP (its closed-loop rate, and its p99 at the same constant
rate), Kafka's own ProducerPerformance for the writes. Every row names its errors.

Intake runs as its own process (`plume serve intake`) against the running stack's Kafka
and PostgreSQL, writing to a benchmark topic of its own (dropped afterwards), so the
counter and delivery services do not count benchmark traffic."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient

from bench import intake_procs as procs
from shared.kafka import ensure_topics
from shared.settings import InfraSettings
from shared.topics import ACTIONS, TopicSpec, spec_of

SECONDS = float(os.environ.get("PLUME_BENCH_SECONDS", "10"))
CONNECTIONS = 64
# The open loop's constant rate, as a share of the no-op floor's closed-loop rate: a load
# the floor takes easily, so its p99 there is the cost of HTTP alone on this machine.
OPEN_LOOP_SHARE = 0.25
BATCH_SIZE = 1_000
BATCH_CONNECTIONS = int(os.environ.get("PLUME_BENCH_BATCH_CONNECTIONS", "8"))
# Worker processes of the intake under test (PLUME_INTAKE_WORKERS of `plume serve intake`):
# the default, then one per core for the batch figure, as the README advises for a peak.
WORKERS = os.environ.get("PLUME_BENCH_INTAKE_WORKERS", "1")
PEAK_WORKERS = str(os.cpu_count() or 2)
# The anonymous and keyed closed loops alternate in this many rounds (each SECONDS/ROUNDS
# long), so that the drift of a shared, noisy machine falls on both alike.
ROUNDS = 3
# Actions per minute for the anonymous callers and the batch key: 0 (unlimited) skips the
# rate limiter; a large figure puts it on every request's path without ever refusing.
RATE_LIMIT = int(os.environ.get("PLUME_BENCH_RATE_LIMIT", "0"))
# The stack's Redis, where intake counts the rate limits (as `make up` configures it).
REDIS_URL = os.environ.get(
    "PLUME_INTAKE_REDIS_URL", f"redis://127.0.0.1:{os.environ.get('PLUME_REDIS_PORT', '6379')}/0"
)


def action(n: int) -> dict[str, Any]:
    return {
        "case_id": "sonia-dahmani",
        "type": "signature",
        "supporter": {"name": "Awa Diallo", "email": f"awa.{n}@example.org", "country": "SN"},
        "consent": {"share_name_with_target": True, "contact": False},
    }


def write_bodies(folder: Path) -> tuple[Path, Path]:
    single = folder / "single.jsonl"
    single.write_text("\n".join(json.dumps(action(n)) for n in range(5_000)) + "\n")
    batch = folder / "batch.jsonl"
    batches = (
        json.dumps({"actions": [action(b * BATCH_SIZE + n) for n in range(BATCH_SIZE)]})
        for b in range(8)
    )
    batch.write_text("\n".join(batches) + "\n")
    return single, batch


async def run() -> list[dict[str, Any]]:
    infra = InfraSettings()
    suffix = uuid4().hex[:8]
    topic = f"bench.intake.actions.{suffix}"
    await ensure_topics(infra.kafka_bootstrap, (TopicSpec(topic, spec_of(ACTIONS).partitions),))
    key_name = f"bench-intake-{suffix}"
    key = await procs.create_batch_key(infra.database_url, key_name, RATE_LIMIT)
    folder = Path(tempfile.mkdtemp(prefix="plume-bench-"))
    try:
        single, batch = write_bodies(folder)
        return await measure(infra, topic, key, single, batch)
    finally:
        await procs.revoke_key(infra.database_url, key_name)
        await drop_topics(infra.kafka_bootstrap, [topic, f"{topic}.floor"])
        shutil.rmtree(folder, ignore_errors=True)


async def measure(
    infra: InfraSettings, topic: str, key: str, single: Path, batch: Path
) -> list[dict[str, Any]]:
    env = {
        "PLUME_SUPPORTER_KEY_SECRET": secrets.token_hex(16),
        # Its own: every supporter of the bench is new, its data keys made on the way.
        "PLUME_SUPPORTER_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PLUME_INTAKE_ACTIONS_TOPIC": topic,
        "PLUME_INTAKE_ANONYMOUS_RATE_LIMIT": str(RATE_LIMIT),
        "PLUME_LOG_LEVEL": "WARNING",
        "PLUME_INTAKE_WORKERS": WORKERS,
        "PLUME_INTAKE_REDIS_URL": REDIS_URL,
    }
    async with procs.serving("noop", {}) as noop:
        floor_closed = await costed(
            noop.pid, procs.load(noop.url + "/v1/actions", "closed", single, SECONDS)
        )
        rate = round(floor_closed["rate"] * OPEN_LOOP_SHARE)
        floor_open = await open_loop(noop.url, single, rate)
        noop_rss = procs.peak_rss_mb(noop.pid)
    async with procs.serving("intake", env) as intake:
        closed, keyed = await anonymous_and_keyed(intake, single, key)
        opened = await open_loop(intake.url, single, rate)
        batched = await batch_load(intake.url, batch, key)
        intake_rss = procs.peak_rss_mb(intake.pid)
    async with procs.serving("intake", {**env, "PLUME_INTAKE_WORKERS": PEAK_WORKERS}) as peak:
        peak_batched = await batch_load(peak.url, batch, key)
        peak_rss = procs.peak_rss_mb(peak.pid)
    record_size = procs.event_size(single)
    flat_out = await procs.producer_performance(
        infra.kafka_bootstrap, f"{topic}.floor", record_size, 500_000
    )
    paced = await procs.producer_performance(
        infra.kafka_bootstrap, f"{topic}.floor", record_size, int(rate * SECONDS), throughput=rate
    )
    actions_per_s = batched["rate"] * BATCH_SIZE
    peak_actions_per_s = peak_batched["rate"] * BATCH_SIZE
    single_target = "≥ 0.35 (goal 0.5), 0 errors"
    return [
        row(
            f"single POST req/s ({WORKERS} worker(s), closed loop, {CONNECTIONS} conns; "
            f"{errors(closed)}) vs no-op ({errors(floor_closed)})",
            closed["rate"],
            "req/s",
            floor_closed["rate"],
            single_target,
        ),
        row(
            f"single POST req/s with an API key ({WORKERS} worker(s), closed loop, "
            f"{CONNECTIONS} conns; {errors(keyed)}) vs no-op",
            keyed["rate"],
            "req/s",
            floor_closed["rate"],
            single_target,
        ),
        row(
            f"single POST server CPU ms per request ({errors(closed)}) vs no-op's "
            "(lower is better: the inverse of the rate's ratio, less sensitive to a busy machine)",
            cpu_ms_per_request(closed),
            "ms",
            cpu_ms_per_request(floor_closed),
            "≤ 2.86 (1/0.35)",
        ),
        row(
            f"single POST with an API key, server CPU ms per request ({errors(keyed)}) vs no-op's",
            cpu_ms_per_request(keyed),
            "ms",
            cpu_ms_per_request(floor_closed),
            "≤ 2.86 (1/0.35)",
        ),
        row(
            f"single POST with an API key vs anonymous (same intake, {ROUNDS} rounds each, "
            "alternated)",
            keyed["rate"],
            "req/s",
            closed["rate"],
            "≥ 0.9",
        ),
        row(
            f"single POST p99 at {rate:,} req/s open loop (¼ of the no-op's rate; "
            f"{errors(opened)}, {opened['rate']:,.0f} ok/s) vs no-op's p99 there "
            f"({errors(floor_open)}, {floor_open['rate']:,.0f} ok/s)",
            opened["p99_ms"],
            "ms",
            floor_open["p99_ms"],
            "≤ 5, 0 errors",
        ),
        row(
            f"batch actions/s with an API key ({WORKERS} worker(s), {BATCH_SIZE:,} per call; "
            f"{errors(batched)}) vs ProducerPerformance",
            actions_per_s,
            "actions/s",
            flat_out.records_per_s,
            "0 errors",
        ),
        row(
            f"batch actions/s with an API key ({PEAK_WORKERS} workers, one per core, "
            f"{BATCH_SIZE:,} per call; {errors(peak_batched)}) vs ProducerPerformance",
            peak_actions_per_s,
            "actions/s",
            flat_out.records_per_s,
            "≥ 0.4, 0 errors",
        ),
        row(
            f"single POST p99 at {rate:,} req/s ({errors(opened)}) vs Kafka's own producer "
            "p99 at the same rate",
            opened["p99_ms"],
            "ms",
            paced.p99_ms,
            "",
        ),
        row(
            f"intake peak RSS under load ({WORKERS} worker(s))",
            intake_rss,
            "MB",
            noop_rss,
            "< 300 MB",
        ),
        row(
            f"intake peak RSS under load ({PEAK_WORKERS} workers, summed)",
            peak_rss,
            "MB",
            noop_rss,
            "< 300 MB",
        ),
    ]


def errors(load: dict[str, float]) -> str:
    """A load's failed requests (non-2xx answers and socket errors), for the row's name."""
    return f"{load['failed']:,.0f} errors"


async def open_loop(url: str, single: Path, rate: int) -> dict[str, float]:
    return await procs.load(url + "/v1/actions", "open", single, SECONDS, rate=rate)


async def anonymous_and_keyed(
    intake: procs.Served, single: Path, key: str
) -> tuple[dict[str, float], dict[str, float]]:
    """The single POST closed loop without a key and with one, alternated in ROUNDS."""
    anonymous: list[dict[str, float]] = []
    keyed: list[dict[str, float]] = []
    url, seconds, with_key = intake.url + "/v1/actions", SECONDS / ROUNDS, {"X-API-Key": key}
    for _ in range(ROUNDS):
        anonymous.append(await costed(intake.pid, procs.load(url, "closed", single, seconds)))
        keyed_load = procs.load(url, "closed", single, seconds, headers=with_key)
        keyed.append(await costed(intake.pid, keyed_load))
    return merged(anonymous), merged(keyed)


async def costed(pid: int, load: Awaitable[dict[str, float]]) -> dict[str, float]:
    """The load's figures, with the server's CPU seconds it cost (`cpu_s`): on a machine
    shared with other work, CPU per request varies far less than requests per second."""
    before = procs.cpu_seconds(pid)
    figures = await load
    return {**figures, "cpu_s": procs.cpu_seconds(pid) - before}


def cpu_ms_per_request(load: dict[str, float]) -> float:
    return 1e3 * load["cpu_s"] / load["ok"] if load["ok"] else float("inf")


def merged(loads: list[dict[str, float]]) -> dict[str, float]:
    """Several loads as one: counts summed, the rate over their whole time, the worst p99."""
    seconds = sum(each["seconds"] for each in loads)
    return {
        "sent": sum(each["sent"] for each in loads),
        "ok": sum(each["ok"] for each in loads),
        "failed": sum(each["failed"] for each in loads),
        "seconds": seconds,
        "rate": sum(each["rate"] * each["seconds"] for each in loads) / seconds,
        "p50_ms": sorted(each["p50_ms"] for each in loads)[len(loads) // 2],
        "p99_ms": max(each["p99_ms"] for each in loads),
        "cpu_s": sum(each.get("cpu_s", 0.0) for each in loads),
    }


async def batch_load(url: str, batch: Path, key: str) -> dict[str, float]:
    return await procs.load(
        url + "/v1/actions/batch",
        "closed",
        batch,
        SECONDS,
        connections=BATCH_CONNECTIONS,
        headers={"X-API-Key": key},
        wrk=False,  # batches keep their generator: figures comparable with earlier runs
    )


def row(name: str, figure: float, unit: str, floor: float, target: str) -> dict[str, Any]:
    ratio = figure / floor if floor else None
    return {
        "name": name,
        "figure": round(figure, 2),
        "unit": unit,
        "floor": round(floor, 2),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": target,
    }


async def drop_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if doomed := [t for t in topics if t in existing]:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
