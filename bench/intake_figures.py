"""The intake benchmark's figures: loads run in alternated rounds with the server CPU each
cost, merged into one figure per load, and the rows `make bench` prints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench import intake_procs as procs

# A load of the given seconds, answering its figures (bench/intake_procs.py's `load`).
Load = Callable[[float], Awaitable[dict[str, float]]]


def errors(load: dict[str, float]) -> str:
    """A load's failed requests (non-2xx answers and socket errors), for the row's name."""
    return f"{load['failed']:,.0f} errors"


async def costed(pid: int, load: Awaitable[dict[str, float]]) -> dict[str, float]:
    """The load's figures, with the server's CPU seconds it cost (`cpu_s`): on a machine
    shared with other work, CPU per request varies far less than requests per second."""
    before = procs.cpu_seconds(pid)
    figures = await load
    return {**figures, "cpu_s": procs.cpu_seconds(pid) - before}


async def alternated(
    pid: int, loads: dict[str, Load], seconds: float, rounds: int
) -> dict[str, dict[str, float]]:
    """Each load run `rounds` times, `seconds / rounds` each, in turn with the others, so
    that the drift of a shared, noisy machine falls on all alike; merged per load."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in loads}
    for _ in range(rounds):
        for name, load in loads.items():
            runs[name].append(await costed(pid, load(seconds / rounds)))
    return {name: merged(each) for name, each in runs.items()}


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
