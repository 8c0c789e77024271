"""The hot path's small helpers: the columns an unnest insert takes, and its text columns
packed into one text each (what PostgreSQL stores from them is
tests/integration/delivery/test_bulk_insert.py's; the time a dossier's CSV shows is
tests/integration/delivery/test_time_text.py's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.delivery.adapters.bulk_insert import NULL, SEPARATOR, BulkInsert, columns, packed
from services.delivery.domain.intake import NamedSignature

MOMENT = datetime(2026, 12, 10, 9, 30, 5, 987654, tzinfo=timezone(timedelta(hours=1)))
ROWS = [
    NamedSignature("c1", "k1", "Awa Diallo", "SN", MOMENT),
    NamedSignature("c2", "k2", "Иван Петров", "RU", MOMENT, "consent-fr-2"),
]
INSERT = BulkInsert("t (a, b, c)", ["text", "timestamptz", "text"], "ON CONFLICT DO NOTHING")


def test_columns_are_the_rows_fields_in_order() -> None:
    assert columns(ROWS) == [
        ("c1", "c2"),
        ("k1", "k2"),
        ("Awa Diallo", "Иван Петров"),
        ("SN", "RU"),
        (MOMENT, MOMENT),
        (None, "consent-fr-2"),
    ]
    assert columns([]) == []


def test_packed_joins_the_values_with_the_separator_and_marks_nulls() -> None:
    assert packed(["Awa", "", "Иван"]) == f"Awa{SEPARATOR}{SEPARATOR}Иван"
    assert packed([None, "x", None]) == f"{NULL}{SEPARATOR}x{SEPARATOR}{NULL}"
    assert packed(["", ""]) == SEPARATOR


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["alone"],  # "" alone would split into no element at all
        [f"a{SEPARATOR}b", "c"],
        [NULL, "c"],
        [f"x{NULL}", None],
    ],
)
def test_packed_refuses_what_would_not_split_back_into_the_same_values(
    values: list[str | None],
) -> None:
    assert packed(values) is None


def test_a_bulk_insert_packs_its_text_columns_and_leaves_the_others_arrays() -> None:
    sql, args = INSERT.statement([("a", MOMENT, None), ("b", MOMENT, "z")])
    assert sql == (
        "INSERT INTO t (a, b, c) SELECT * FROM unnest(string_to_array($1, E'\\x1f', E'\\x1e'), "
        "$2::timestamptz[], string_to_array($3, E'\\x1f', E'\\x1e')) ON CONFLICT DO NOTHING"
    )
    assert args == [f"a{SEPARATOR}b", (MOMENT, MOMENT), f"{NULL}{SEPARATOR}z"]


@pytest.mark.parametrize(
    "rows", [[("a", MOMENT, None)], [("a", MOMENT, "x"), (f"b{SEPARATOR}", MOMENT, "y")]]
)
def test_a_bulk_insert_sends_arrays_when_a_text_column_cannot_be_packed(
    rows: list[tuple[str, datetime, str | None]],
) -> None:
    sql, args = INSERT.statement(rows)
    assert sql == (
        "INSERT INTO t (a, b, c) SELECT * FROM unnest($1::text[], $2::timestamptz[], "
        "$3::text[]) ON CONFLICT DO NOTHING"
    )
    assert args == columns(rows)
