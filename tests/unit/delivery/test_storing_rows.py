"""The hot path's small helpers: the columns an unnest insert takes, and its text columns
packed into one text each (what PostgreSQL stores from them is
tests/integration/delivery/test_bulk_insert.py's; the time a dossier's CSV shows is
tests/integration/delivery/test_time_text.py's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.delivery.adapters.bulk_insert import (
    NULL,
    SEPARATOR,
    BulkInsert,
    columns,
    microseconds,
    packed,
)
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


def test_a_bulk_insert_packs_texts_numbers_and_times_and_leaves_the_others_arrays() -> None:
    insert = BulkInsert("t (a, b, c, d, e)", ["text", "timestamptz", "text", "bigint", "uuid"])
    ids = (uuid4(), uuid4())
    later = MOMENT + timedelta(microseconds=1)
    sql, args = insert.statement(
        [("a", MOMENT, None, -7, ids[0]), ("b", later, "z", 2**40, ids[1])]
    )
    split = "string_to_array(${}, E'\\x1f', E'\\x1e')"
    assert sql == (
        "INSERT INTO t (a, b, c, d, e) SELECT c1, timestamptz 'epoch' + c2 / 1000000 * "
        "interval '1 second' + c2 % 1000000 * interval '1 microsecond', c3, c4, c5 "
        f"FROM unnest({split.format(1)}, {split.format(2)}::bigint[], {split.format(3)}, "
        f"{split.format(4)}::bigint[], $5::uuid[]) AS u(c1, c2, c3, c4, c5)"
    )
    since_epoch = int((MOMENT - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6 + 987654
    assert args == [
        f"a{SEPARATOR}b",
        f"{since_epoch}{SEPARATOR}{since_epoch + 1}",
        f"{NULL}{SEPARATOR}z",
        f"-7{SEPARATOR}{2**40}",
        ids,
    ]


def test_a_time_goes_as_its_microseconds_since_the_epoch() -> None:
    assert microseconds(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == "1000005"
    assert microseconds(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == "-1"
    assert microseconds(datetime(1970, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == "0"


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


@pytest.mark.parametrize(
    "moment",
    [
        datetime.min.replace(tzinfo=UTC),  # asyncpg's -infinity
        datetime.max.replace(tzinfo=UTC),  # and infinity
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # before year 1 in UTC
    ],
)
def test_a_time_asyncpg_sends_its_own_way_or_refuses_goes_as_an_array(moment: datetime) -> None:
    rows = [("a", MOMENT, "x"), ("b", moment, "y")]
    sql, args = INSERT.statement(rows)
    assert "$2::timestamptz[]" in sql
    assert args == columns(rows)
