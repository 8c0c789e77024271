"""`make bench` runs each benchmark several times and prints medians with their spread,
and the change of each median ratio against the previous run."""

from __future__ import annotations

import pytest

from bench.summary import compare, fold, render

pytestmark = pytest.mark.unit


def row(name: str, figure: float, floor: float) -> dict[str, object]:
    return {"name": name, "figure": figure, "unit": "x/s", "floor": floor, "ratio": figure / floor}


def test_three_runs_fold_into_medians_and_their_spread() -> None:
    runs = [[row("a", 10, 100)], [row("a", 30, 100)], [row("a", 20, 50)]]
    [folded] = fold(runs)
    assert folded["runs"] == 3
    assert folded["figure"] == 20
    assert folded["spread"] == "10.00-30.00"
    assert folded["floor"] == 100
    assert folded["ratio"] == pytest.approx(0.3)  # the median of the runs' own ratios
    assert folded["ratio spread"] == "0.10-0.40"


def test_rows_keep_their_order_and_a_row_missing_from_a_run_folds_what_there_is() -> None:
    runs = [[row("b", 1, 1), row("a", 2, 1)], [row("b", 3, 1)]]
    folded = fold(runs)
    assert [r["name"] for r in folded] == ["b", "a"]
    assert folded[1]["runs"] == 1 and folded[1]["spread"] == ""


def test_the_change_is_the_median_ratio_against_the_previous_run() -> None:
    now = fold([[row("a", 30, 100), row("new one", 1, 1)]])
    before = fold([[row("a", 20, 100)]])
    changed = {r["name"]: r["change"] for r in compare(now, before)}
    assert changed == {"a": "+50%", "new one": "new"}


def test_without_a_previous_run_there_is_no_change_column() -> None:
    rows = compare(fold([[row("a", 1, 2)]]), None)
    assert "change" not in render(rows).splitlines()[0]
    assert "0.50" in render(rows)


def test_names_differing_only_in_their_numbers_are_one_row_showing_each_runs_numbers() -> None:
    runs = [
        [row("p99 at 7,695 req/s (0 errors)", 10, 5)],
        [row("p99 at 7,512 req/s (0 errors)", 20, 5)],
        [row("p99 at 7,801.5 req/s (12 errors)", 30, 5)],
    ]
    [folded] = fold(runs)
    assert folded["runs"] == 3 and folded["figure"] == 20
    assert folded["name"] == "p99 at 7,695/7,512/7,801.5 req/s (0/0/12 errors)"


def test_the_change_finds_the_previous_row_whatever_its_numbers() -> None:
    now = fold([[row("rate at 7,000 req/s (3 errors)", 30, 100)]])
    before = fold([[row("rate at 6,000 req/s (0 errors)", 20, 100)]])
    [changed] = compare(now, before)
    assert changed["change"] == "+50%"


def test_numbers_inside_words_name_different_rows() -> None:
    runs = [[row("freshness p99 at 2,000/s", 50, 2), row("freshness p50 at 2,000/s", 15, 1)]]
    assert [r["name"] for r in fold(runs)] == [
        "freshness p99 at 2,000/s",
        "freshness p50 at 2,000/s",
    ]
