"""Repeated runs of a benchmark folded into one row each: the median figure, floor and
ratio of the runs with their spread (min-max), and the change of the median ratio against
the previous `make bench` kept under $PLUME_HOME/bench/. Pure: no I/O."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]
COLUMNS = ("name", "figure", "spread", "unit", "floor", "ratio", "ratio spread", "target", "change")


# Names carry what each run measured beside its figure (a rate, a count of errors): the
# same row of another run differs only in those numbers. Only numbers standing alone:
# "p99" and "p50" name different rows.
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\w)")


def row_key(name: str) -> str:
    """The row a name belongs to, whatever numbers it carries."""
    return NUMBER.sub("#", name)


def fold(runs: Sequence[Sequence[Row]]) -> list[Row]:
    """One row per name (in first-seen order; names differing only in their numbers are
    one row) from the runs' rows: medians and spreads of figure, floor and ratio over the
    runs that gave that row."""
    by_key: dict[str, list[Row]] = {}
    for rows in runs:
        for row in rows:
            by_key.setdefault(row_key(row["name"]), []).append(row)
    return [_fold_one(same) for same in by_key.values()]


def folded_name(names: Sequence[str]) -> str:
    """One name for names of the same row: each number that differs between the runs
    shows every run's value, e.g. "0/0/12 errors"."""
    numbers = [NUMBER.findall(name) for name in names]
    parts = NUMBER.split(names[0])
    shown = [
        values[0] if len(set(values)) == 1 else "/".join(values)
        for values in zip(*numbers, strict=True)
    ]
    return "".join(part + (shown[i] if i < len(shown) else "") for i, part in enumerate(parts))


def _fold_one(same: list[Row]) -> Row:
    first = {**same[0], "name": folded_name([r["name"] for r in same])}
    figures = [r["figure"] for r in same if isinstance(r.get("figure"), int | float)]
    floors = [r["floor"] for r in same if isinstance(r.get("floor"), int | float)]
    ratios = [r["ratio"] for r in same if isinstance(r.get("ratio"), int | float)]
    return {
        **{k: v for k, v in first.items() if k not in ("figure", "floor", "ratio")},
        "runs": len(same),
        "figure": _median(figures),
        "spread": _spread(figures),
        "floor": _median(floors),
        "ratio": _median(ratios),
        "ratio spread": _spread(ratios),
        "figures": figures,
        "floors": floors,
        "ratios": ratios,
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    return f"{_short(min(values))}-{_short(max(values))}"


def _short(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def compare(rows: list[Row], previous: Sequence[Row] | None) -> list[Row]:
    """Each row with "change": its median ratio against the same row of the previous run
    (a percentage), or "new" when that run did not have it."""
    if previous is None:
        return rows
    before = {
        row_key(r["name"]): r.get("ratio") for r in previous if isinstance(r, dict) and "name" in r
    }
    out = []
    for row in rows:
        key = row_key(row["name"])
        old, now = before.get(key), row.get("ratio")
        if not isinstance(old, int | float) or not isinstance(now, int | float) or not old:
            change = "new" if key not in before else ""
        else:
            change = f"{(now - old) / old:+.0%}"
        out.append({**row, "change": change})
    return out


def render(rows: Sequence[Row], columns: Sequence[str] = COLUMNS) -> str:
    shown = [c for c in columns if any(row.get(c) not in (None, "") for row in rows)]
    table = [tuple(shown)] + [tuple(_cell(row.get(c)) for c in shown) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(shown))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in table
    )


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)
