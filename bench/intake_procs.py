"""The processes the intake benchmarks run: the server under test (intake, or the no-op
floor app) on a free port, the load generators (wrk when installed, else
bench.intake_load), and Kafka's ProducerPerformance for the write floor."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared import apikeys
from shared.db import create_pool
from tests.serving import REPO, serve_command

WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local headers = {%s}
local n = 0
request = function()
  n = n %% #bodies + 1
  return wrk.format("POST", nil, headers, bodies[n])
end
"""
# Answers in a row from /readyz on new connections (which the kernel spreads over the
# workers of one port) before a multi-worker server counts as ready: one answer came from
# one worker only, and the others could still answer 503 "starting" (2^-16 per worker
# still starting, with two workers).
READY_IN_A_ROW = 16


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(what: str, env: dict[str, str]) -> AsyncIterator[Served]:
    port = free_port()
    if what == "intake":
        command = serve_command("intake")
        env = {**env, "PLUME_INTAKE_PORT": str(port)}
        ready = "/readyz"
    else:  # the floor: the same uvicorn settings as `plume serve intake`
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.intake_noop_app:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ]
        ready = "/"
    process = await asyncio.create_subprocess_exec(*command, env={**os.environ, **env}, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url + ready, process, READY_IN_A_ROW if what == "intake" else 1)
        yield Served(url, process.pid)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def _wait_ready(url: str, process: asyncio.subprocess.Process, in_a_row: int) -> None:
    """Until `url` answers below 500 `in_a_row` times, each on a new connection."""
    in_a_row_now = 0
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=fresh) as client:
        for _ in range(600 + in_a_row):
            if process.returncode is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                ready = (await client.get(url)).status_code < 500
            except httpx.TransportError:
                ready = False
            in_a_row_now = in_a_row_now + 1 if ready else 0
            if in_a_row_now >= in_a_row:
                return
            if not ready:
                await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} not ready in 60s")


async def load(
    url: str,
    mode: str,
    bodies: Path,
    seconds: float,
    *,
    rate: float = 0,
    connections: int = 64,
    headers: dict[str, str] | None = None,
    wrk: bool = True,
) -> dict[str, float]:
    """Run one load; returns sent, ok, failed, seconds, rate (ok/s), p50_ms, p99_ms.
    A closed loop runs on wrk when installed and `wrk`, else on bench.intake_load."""
    headers = headers or {}
    if mode == "closed" and wrk and shutil.which("wrk"):
        return await _wrk(url, bodies, seconds, connections, headers)
    args = [
        sys.executable,
        "-m",
        "bench.intake_load",
        url,
        "--mode",
        mode,
        "--bodies",
        str(bodies),
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
        "--rate",
        str(rate),
    ]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    out = await _output(args)
    result: dict[str, float] = json.loads(out)
    return result


async def _wrk(
    url: str, bodies: Path, seconds: float, connections: int, headers: dict[str, str]
) -> dict[str, float]:
    script = bodies.with_suffix(".lua")
    # JSON's string quoting is valid Lua for these plain header names and values.
    every = {"Content-Type": "application/json", **headers}
    lua_headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in every.items())
    script.write_text(WRK_SCRIPT % (bodies, lua_headers))
    out = await _output(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "-s", str(script), url]
    )
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    ok_rate = rate * (total - failed) / total if total else 0.0
    return {
        "sent": total,
        "ok": total - failed,
        "failed": failed,
        "rate": ok_rate,
        "p99_ms": _wrk_ms(out, "99%"),
        "p50_ms": _wrk_ms(out, "50%"),
        "seconds": seconds,
    }


def _wrk_ms(out: str, percentile: str) -> float:
    found = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out)
    if not found:
        return 0.0
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _output(args: list[str]) -> str:
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, cwd=REPO)
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"{args[0]} failed with {process.returncode}")
    return out.decode()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (worker processes), summed."""
    total_kb = 0
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{each}/status").read_text()
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            total_kb += int(found.group(1)) if found else 0
    return total_kb / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children (worker processes) have used
    so far, summed: the server's own cost of a load, whatever else the machine runs."""
    ticks = 0
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            # Fields after the command's closing parenthesis: utime and stime are 14 and 15.
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


def event_size(bodies: Path) -> int:
    """Bytes of one encoded ActionEvent like those the benchmark produces."""
    from datetime import UTC, datetime

    from services.intake.domain.actions import ANONYMOUS, Context, decide
    from services.intake.domain.model import ActionIn, Rules
    from shared.contracts.action_record import ActionRecord, encode_record

    now = datetime.now(UTC)
    raw = bodies.read_bytes().splitlines()[0]
    action = ActionIn.model_validate_json(raw, context=Rules(lambda _: True, now, 0))
    ctx = Context(b"x" * 32, now, 0, "0" * 32)
    event = decide(action, ANONYMOUS, lambda _: _fake_case(), ctx)
    assert isinstance(event, ActionRecord), event
    return len(encode_record(event))


def _fake_case() -> Any:
    from shared.contracts.catalog import CaseRecord

    return CaseRecord.model_validate(
        {
            "campaign_id": "c",
            "campaign_name": "c",
            "milestones": [],
            "case": {
                "id": "c",
                "name": "c",
                "country": "TN",
                "targets": [{"id": "t", "name": "t", "country": "TN", "language": "fr"}],
            },
        }
    )


def kafka_libs() -> Path:
    explicit = os.environ.get("PLUME_KAFKA_LIBS")
    home = Path(os.environ.get("PLUME_HOME", REPO / ".plume"))
    libs = Path(explicit) if explicit else home / "kafka" / "libs"
    if not any(libs.glob("kafka-tools-*.jar")):
        raise FileNotFoundError(
            f"no kafka-tools jar in {libs}: run `make install` or set PLUME_KAFKA_LIBS"
        )
    return libs


@dataclass(frozen=True)
class KafkaFigures:
    records_per_s: float
    p99_ms: float


async def producer_performance(
    bootstrap: str, topic: str, size: int, records: int, throughput: float = -1
) -> KafkaFigures:
    """What Kafka's own producer achieves, durably (acks=all, idempotent): records/s and
    p99 latency, flat out (`throughput` -1) or at a fixed rate."""
    from shared.kafka import ensure_topics
    from shared.topics import ACTIONS, TopicSpec, spec_of

    await ensure_topics(bootstrap, (TopicSpec(topic, spec_of(ACTIONS).partitions),))
    tool = "org.apache.kafka.tools.ProducerPerformance"
    props = [f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true"]
    out = await _output(
        [
            "java",
            "-Xmx512m",
            "-cp",
            f"{kafka_libs()}/*",
            tool,
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--record-size",
            str(size),
            "--throughput",
            str(int(throughput)),
            "--producer-props",
            *props,
        ]
    )
    summary = out.strip().splitlines()[-1]
    rate = re.search(r"([\d.]+) records/sec", summary)
    p99 = re.search(r"([\d.]+) ms 99th", summary)
    if not rate or not p99:
        raise RuntimeError(f"unexpected ProducerPerformance output: {summary}")
    return KafkaFigures(float(rate.group(1)), float(p99.group(1)))


async def create_batch_key(database_url: str, name: str, rate_limit: int = 0) -> str:
    pool = await create_pool(database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        async with pool.acquire() as conn:
            scopes = {apikeys.Scope.ACTIONS_BATCH, apikeys.Scope.ACTIONS_WRITE}
            return await apikeys.create_key(conn, name, scopes, rate_limit)
    finally:
        await pool.close()


async def revoke_key(database_url: str, name: str) -> None:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            await apikeys.revoke_key(conn, name)
    finally:
        await pool.close()
