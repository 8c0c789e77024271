"""Intake benchmarks (`make bench`): single POST throughput (closed loop), anonymous and
with an API key (a partner's path), p99 at a constant rate (open loop) of a quarter of the
floor's own throughput, batch actions/s (always with a key), and intake's peak RSS. Each
figure sits beside a floor measured in the same run on the same machine: the same uvicorn
serving a no-op ASGI app for HTTP (its closed-loop rate, and its p99 at the same constant
rate), Kafka's own ProducerPerformance for the writes. Every row names its errors. The
cost of sealing (issue 14): the same single and batch loads, supporters sharing their name
(sealed) beside supporters sharing nothing personal (nothing sealed), alternated.

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
from pathlib import Path
from typing import Any, NamedTuple
from uuid import uuid4

from bench import intake_procs as procs
from bench.intake_figures import Load, alternated, costed, cpu_ms_per_request, errors, row
from shared.kafka import delete_topics, ensure_topics
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


def action(n: int, shares: bool = True) -> dict[str, Any]:
    """A signature. `shares`: its supporter shares their name with the target, so the name
    is sealed on the wire; otherwise nothing personal is kept and nothing is sealed (the
    supporter's data key is still found or made: its id is the supporter's id)."""
    return {
        "case_id": "sonia-dahmani",
        "type": "signature",
        "supporter": {
            "name": "Awa Diallo",
            "email": f"{'awa' if shares else 'ama'}.{n}@example.org",  # each its own supporter
            "country": "SN",
        },
        "consent": {"share_name_with_target": shares, "contact": False},
    }


class Bodies(NamedTuple):
    single: Path
    batch: Path


def write_bodies(folder: Path, shares: bool) -> Bodies:
    single = folder / f"single-{shares}.jsonl"
    single.write_text("\n".join(json.dumps(action(n, shares)) for n in range(5_000)) + "\n")
    batch = folder / f"batch-{shares}.jsonl"
    batches = (
        json.dumps({"actions": [action(b * BATCH_SIZE + n, shares) for n in range(BATCH_SIZE)]})
        for b in range(8)
    )
    batch.write_text("\n".join(batches) + "\n")
    return Bodies(single, batch)


async def run() -> list[dict[str, Any]]:
    infra = InfraSettings()
    suffix = uuid4().hex[:8]
    topic = f"bench.intake.actions.{suffix}"
    await ensure_topics(infra.kafka_bootstrap, (TopicSpec(topic, spec_of(ACTIONS).partitions),))
    key_name = f"bench-intake-{suffix}"
    key = await procs.create_batch_key(infra.database_url, key_name, RATE_LIMIT)
    folder = Path(tempfile.mkdtemp(prefix="plume-bench-"))
    try:
        sealed, unsealed = write_bodies(folder, True), write_bodies(folder, False)
        return await measure(infra, topic, key, sealed, unsealed)
    finally:
        await procs.revoke_key(infra.database_url, key_name)
        await delete_topics(infra.kafka_bootstrap, [topic, f"{topic}.floor"])
        shutil.rmtree(folder, ignore_errors=True)


async def measure(
    infra: InfraSettings, topic: str, key: str, sealed: Bodies, unsealed: Bodies
) -> list[dict[str, Any]]:
    env = {
        "PLUME_SUPPORTER_KEY_SECRET": secrets.token_hex(16),
        # Its own: the bench's supporters are new to it, so each one's data key is made the
        # first time its body is sent (then held in memory while the bodies come round).
        "PLUME_SUPPORTER_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PLUME_INTAKE_ACTIONS_TOPIC": topic,
        "PLUME_INTAKE_ANONYMOUS_RATE_LIMIT": str(RATE_LIMIT),
        "PLUME_LOG_LEVEL": "WARNING",
        "PLUME_INTAKE_WORKERS": WORKERS,
        "PLUME_INTAKE_REDIS_URL": REDIS_URL,
    }
    single, batch = sealed
    async with procs.serving("noop", {}) as noop:
        floor_closed = await costed(
            noop.pid, procs.load(noop.url + "/v1/actions", "closed", single, SECONDS)
        )
        rate = round(floor_closed["rate"] * OPEN_LOOP_SHARE)
        floor_open = await open_loop(noop.url, single, rate)
        noop_rss = procs.peak_rss_mb(noop.pid)
    async with procs.serving("intake", env) as intake:
        loads = single_loads(intake.url, key, single, unsealed.single)
        singles = await alternated(intake.pid, loads, SECONDS, ROUNDS)
        closed, keyed, plain = singles["anonymous"], singles["keyed"], singles["unsealed"]
        opened = await open_loop(intake.url, single, rate)
        # Its latency under a load it carries: a quarter of its own closed-loop rate (the
        # no-op's quarter, above, is beyond one worker's reach).
        own_rate = round(closed["rate"] * OPEN_LOOP_SHARE)
        carried = await open_loop(intake.url, single, own_rate)
        batches = await alternated(
            intake.pid,
            {
                "sealed": lambda s: batch_load(intake.url, batch, key, s),
                "unsealed": lambda s: batch_load(intake.url, unsealed.batch, key, s),
            },
            SECONDS,
            ROUNDS,
        )
        batched, plain_batched = batches["sealed"], batches["unsealed"]
        intake_rss = procs.peak_rss_mb(intake.pid)
    async with procs.serving("noop", {}) as noop:
        floor_carried = await open_loop(noop.url, single, own_rate)
    async with procs.serving("intake", {**env, "PLUME_INTAKE_WORKERS": PEAK_WORKERS}) as peak:
        peak_batched = await batch_load(peak.url, batch, key, SECONDS)
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
            f"single POST p99 at {own_rate:,} req/s open loop (¼ of intake's own closed-loop "
            f"rate; {errors(carried)}, {carried['rate']:,.0f} ok/s) vs no-op's p99 there "
            f"({errors(floor_carried)})",
            carried["p99_ms"],
            "ms",
            floor_carried["p99_ms"],
            "informative: latency at a load one worker carries",
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
        *sealing_rows(closed, plain, batched, plain_batched),
    ]


def sealing_rows(
    closed: dict[str, float],
    plain: dict[str, float],
    batched: dict[str, float],
    plain_batched: dict[str, float],
) -> list[dict[str, Any]]:
    """What sealing costs intake (issue 14): the same loads whose supporters share their
    name (sealed) beside supporters who share nothing personal (nothing sealed), on the
    same intake, alternated. Both find or make a data key per supporter (its id is the
    supporter's id on the wire): the difference is the sealing itself."""
    alike = f"same intake, {ROUNDS} rounds each, alternated"
    return [
        row(
            f"single POST req/s, name shared: sealed ({errors(closed)}) vs nothing personal "
            f"kept: nothing sealed ({errors(plain)}; {alike})",
            closed["rate"],
            "req/s",
            plain["rate"],
            "",
        ),
        row(
            "single POST server CPU ms per request, sealed vs nothing sealed (lower is better)",
            cpu_ms_per_request(closed),
            "ms",
            cpu_ms_per_request(plain),
            "",
        ),
        row(
            f"batch actions/s with an API key ({BATCH_SIZE:,} per call), sealed "
            f"({errors(batched)}) vs nothing sealed ({errors(plain_batched)}; {alike})",
            batched["rate"] * BATCH_SIZE,
            "actions/s",
            plain_batched["rate"] * BATCH_SIZE,
            "",
        ),
    ]


def single_loads(url: str, key: str, sealed: Path, unsealed: Path) -> dict[str, Load]:
    """The single POST closed loops: anonymous, with an API key, and anonymous with
    supporters who share nothing personal."""
    url += "/v1/actions"
    with_key = {"X-API-Key": key}
    return {
        "anonymous": lambda s: procs.load(url, "closed", sealed, s),
        "keyed": lambda s: procs.load(url, "closed", sealed, s, headers=with_key),
        "unsealed": lambda s: procs.load(url, "closed", unsealed, s),
    }


async def open_loop(url: str, single: Path, rate: int) -> dict[str, float]:
    return await procs.load(url + "/v1/actions", "open", single, SECONDS, rate=rate)


async def batch_load(url: str, batch: Path, key: str, seconds: float) -> dict[str, float]:
    return await procs.load(
        url + "/v1/actions/batch",
        "closed",
        batch,
        seconds,
        connections=BATCH_CONNECTIONS,
        headers={"X-API-Key": key},
        wrk=False,  # batches keep their generator: figures comparable with earlier runs
    )
