"""`may_differ`'s count of openings takes a shortcut for flat objects: it must answer what
counting every bracket answers, for any text and limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.fast_json import may_differ

pytestmark = pytest.mark.unit

# Texts made mostly of the bytes that matter, so that brackets often come in numbers.
TEXTS = st.lists(st.sampled_from([b"{", b"[", b"}", b"]", b'"a":1', b",", b" ", b"x"])).map(
    b"".join
)


def by_counting(raw: bytes, limit: int) -> bool:
    return raw.count(b"[") + raw.count(b"{") > limit


@given(TEXTS, st.integers(min_value=0, max_value=6))
def test_the_openings_are_judged_as_by_counting_them_all(raw: bytes, limit: int) -> None:
    assert may_differ(raw, limit) == by_counting(raw, limit)


@pytest.mark.parametrize(
    ("raw", "limit", "differs"),
    [
        (b'{"a":1}', 0, True),  # the one brace is already past a limit of none
        (b'{"a":1}', 1, False),
        (b' {"a":1}', 1, False),  # a brace after a space is counted, not skipped
        (b'{"a":{"b":1}}', 1, True),
        (b'{"a":[1]}', 1, True),
        (b"[" * 65 + b"]" * 65, 64, True),
        (b"{" + b'"a":[1],' * 63 + b'"b":1}', 64, False),  # 64 openings: not past 64
        (b"{" + b'"a":[1],' * 63 + b'"b":1}', 63, True),
    ],
)
def test_nesting_and_counts_at_the_limit(raw: bytes, limit: int, differs: bool) -> None:
    assert may_differ(raw, limit) is differs


def test_a_time_finer_than_a_microsecond_differs_however_flat() -> None:
    assert may_differ(b'{"t":"2026-01-01T00:00:00.1234567Z"}', 64)
    assert not may_differ(b'{"t":"2026-01-01T00:00:00.123456Z"}', 64)
