"""What the probe reads from the local stack while it presses on it: a service's resident
memory (from its pid file) and how long `/healthz` takes to answer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def run_dir() -> Path:
    home = Path(os.environ.get("PLUME_HOME", ".plume"))
    return (home if home.is_absolute() else REPO / home) / "run"


def rss_mb(service: str) -> float:
    """Resident memory of the service's process and its direct children (workers), in MB;
    0 when it does not run."""
    try:
        pid = int((run_dir() / f"{service}.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    pids = [pid, *_children(pid)]
    return sum(_rss_kb(p) for p in pids) / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Latencies:
    """`/healthz` answer times in ms; a request that fails or times out counts as its
    timeout, so a stalled service shows as slow, not as missing samples."""

    samples: list[float] = field(default_factory=list)
    failures: int = 0

    def line(self) -> str:
        if not self.samples:
            return "no sample"
        ordered = sorted(self.samples)
        p50 = statistics.median(ordered)
        return f"p50 {p50:.1f} ms, max {ordered[-1]:.1f} ms over {len(ordered)} requests" + (
            f", {self.failures} failed" if self.failures else ""
        )


def monitor_client(limit_s: float = 10.0) -> httpx.AsyncClient:
    """A client that opens a new connection per request, as a health monitor would."""
    return httpx.AsyncClient(timeout=limit_s, limits=httpx.Limits(max_keepalive_connections=0))


async def healthz(client: httpx.AsyncClient, url: str, into: Latencies) -> None:
    started = time.perf_counter()
    try:
        ok = (await client.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        ok = False
    into.samples.append((time.perf_counter() - started) * 1000)
    into.failures += not ok


async def sample_healthz(url: str, count: int, every: float = 0.05) -> Latencies:
    found = Latencies()
    async with monitor_client() as client:
        for _ in range(count):
            await healthz(client, url, found)
            await asyncio.sleep(every)
    return found


@dataclass
class PeakMemory:
    service: str
    peak: float = 0.0

    async def watch(self, stop: asyncio.Event, every: float = 0.1) -> None:
        while not stop.is_set():
            self.peak = max(self.peak, rss_mb(self.service))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
