"""`make bench`: run every benchmark module (bench/*_bench.py, each with `async def run()`
returning rows), print one table of figure / floor / ratio / target, and keep it as JSON
under $PLUME_HOME/bench/. Each figure is measured beside its floor in the same run, because
these 2-core machines are too noisy for absolute numbers alone."""

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

HERE = Path(__file__).resolve().parent
COLUMNS = ("name", "figure", "unit", "floor", "ratio", "target")


def discover(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("*_bench.py"))
    return [n for n in names if not selected or any(s in n for s in selected)]


def render(rows: list[dict[str, Any]]) -> str:
    table = [COLUMNS] + [tuple(_cell(row.get(c)) for c in COLUMNS) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in table
    )


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


async def run_all(modules: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in modules:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        got = await module.run()
        print(render(got), flush=True)
        rows.extend({"module": name, **row} for row in got)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("only", nargs="*", help="run only modules whose name contains this")
    args = parser.parse_args()
    modules = discover(args.only)
    if not modules:
        sys.exit("no benchmark module matched")
    rows = asyncio.run(run_all(modules))
    print("\n== all benchmarks\n" + render(rows))
    out = Path(os.environ.get("PLUME_HOME", ".plume")) / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2, default=str))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
