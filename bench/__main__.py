"""`make bench`: run every benchmark module (bench/*_bench.py, each with `async def run()`
returning rows) several times, print one table of median figure / floor / ratio with their
spread over the runs, and keep the run as JSON under $PLUME_HOME/bench/<timestamp>.json,
with each ratio's change against the previous run. Each figure is measured beside its
floor in the same run, because these 2-core machines are too noisy for absolute numbers
alone; the median of several runs keeps one unlucky run from deciding."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.options import SCALE_VARIABLE
from bench.summary import compare, fold, render

HERE = Path(__file__).resolve().parent


def discover(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("*_bench.py"))
    return [n for n in names if not selected or any(s in n for s in selected)]


async def run_all(modules: list[str], runs: int) -> list[dict[str, Any]]:
    """Each module `runs` times in a row (its rows folded over the runs)."""
    rows: list[dict[str, Any]] = []
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        got: list[list[dict[str, Any]]] = []
        for n in range(1, runs + 1):
            print(f"== {name}, run {n} of {runs}", flush=True)
            got.append(await module.run())
            print(render(got[-1]), flush=True)
        rows.extend({"module": name, **row} for row in fold(got))
    return rows


class OverTime(Exception):
    """The whole run passed its limit (`--max-minutes`)."""


async def run_within(modules: list[str], runs: int, seconds: float) -> list[dict[str, Any]]:
    """`run_all`, stopped past `seconds`; a benchmark's own TimeoutError (a wait that gave
    up) is its error, not the limit's."""
    try:
        async with asyncio.timeout(seconds) as limit:
            return await run_all(modules, runs)
    except TimeoutError:
        if limit.expired():
            raise OverTime from None
        raise


def previous_run(folder: Path) -> list[dict[str, Any]] | None:
    kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not kept:
        return None
    data = json.loads(kept[-1].read_text())
    rows = data.get("rows") if isinstance(data, dict) else data
    return rows if isinstance(rows, list) else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("only", nargs="*", help="run only modules whose name contains this")
    parser.add_argument("--runs", type=int, default=3, help="runs of each module (default 3)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the benchmarks' sizes (e.g. 0.1 while iterating; figures then differ)",
    )
    parser.add_argument(
        "--max-minutes", type=float, default=120, help="stop with an error past this (default 120)"
    )
    args = parser.parse_args()
    modules = discover(args.only)
    if not modules:
        sys.exit("no benchmark module matched")
    os.environ[SCALE_VARIABLE] = str(args.scale)
    started = time.monotonic()
    try:
        rows = asyncio.run(run_within(modules, args.runs, args.max_minutes * 60))
    except OverTime:
        sys.exit(f"make bench stopped: it took longer than {args.max_minutes:g} minutes")
    folder = Path(os.environ.get("PLUME_HOME", ".plume")) / "bench"
    rows = compare(rows, previous_run(folder))
    minutes = (time.monotonic() - started) / 60
    print(f"\n== all benchmarks: median of {args.runs} runs, {minutes:.1f} min\n" + render(rows))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    record = {"runs": args.runs, "scale": args.scale, "minutes": minutes, "rows": rows}
    path.write_text(json.dumps(record, indent=2, default=str))
    print(f"\nwritten to {path} (change: median ratio against the previous file there)")


if __name__ == "__main__":
    main()
