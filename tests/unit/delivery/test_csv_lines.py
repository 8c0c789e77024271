"""csv_lines.csv_text gives, for any chunk of joined rows, the bytes Python's csv writer
gives the rows' cells after safe_cell: whichever of its three ways the chunk takes (all
plain, some cell starting otherwise, some cell the writer quotes)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.delivery.adapters.csv_lines import csv_text
from services.delivery.domain.csvsafe import safe_cell

pytestmark = pytest.mark.unit
TIME = "2026-12-10T09:30:05Z"
# Letters, digits, what starts a formula in any form, what the writer quotes, others.
ALPHABET = "aZ09 ,\"'\r\n\t=+-@\u00a0\u3000\u200b\uff1d\u2212é王"
Row = tuple[int, int, str]


def joined(name: str, country: str, time: str = TIME) -> Row:
    """A row as lines_query gives it."""
    return len(name), len(country), f"{name},{country},{time}"


def written(cells: list[tuple[str, str, str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([tuple(safe_cell(c) for c in row) for row in cells])
    return out.getvalue()


CHUNKS = {
    "all plain": [("Awa Diallo", "SN"), ("9 Lives", "GB"), ("zoe", "FR")],
    "odd starts, nothing quoted": [
        ("Awa", "SN"),
        ("=1+1", "FR"),
        ("王小明", "CN"),
        (" -x", "FR"),
        ("Zed", "=X"),
        ("", "FR"),
        ("\uff1dSUM(A1)", "é1"),
    ],
    "quoted cells": [("Awa", "SN"), ("Zoë, Å", "SE"), ('Say "hi"', "FR"), ("a\r\nb", ",X")],
    "one odd row": [("=cmd", "FR")],
    "a comma in the country alone": [("Awa", "S,")],
}


@pytest.mark.parametrize("cells", CHUNKS.values(), ids=CHUNKS.keys())
def test_a_chunk_is_what_the_writer_gives_it(cells: list[tuple[str, str]]) -> None:
    rows = [joined(name, country) for name, country in cells]
    assert csv_text(rows) == written([(name, country, TIME) for name, country in cells])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(ALPHABET, max_size=6), st.text(ALPHABET, min_size=2, max_size=2)),
        min_size=1,
        max_size=8,
    )
)
def test_any_chunk_is_what_the_writer_gives_it(cells: list[tuple[str, str]]) -> None:
    rows = [joined(name, country) for name, country in cells]
    assert csv_text(rows) == written([(name, country, TIME) for name, country in cells])
