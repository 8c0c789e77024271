"""Bulk inserts of a batch's rows as `INSERT … SELECT FROM unnest(…)`, each column one
parameter. A text column goes as one text, its values joined by a separator that
PostgreSQL's string_to_array splits again, rather than as a text[] that asyncpg encodes
value by value (checking each one's type through an abstract base class): measured
beside a million signatures, 5 against 2 µs of the consumer's CPU per row, and less of
PostgreSQL's too (12 against 14 µs) than the array's. JSON (json_array_elements) was
cheaper still for the consumer but cost PostgreSQL 5 µs more per row. A bigint column
goes packed the same way (its digits), and a timestamptz column as the microseconds since
the epoch, packed, that PostgreSQL adds to the epoch again: asyncpg encodes a time in
1.45 µs of the consumer's CPU, its count of microseconds as text takes 0.4 (measured per
value, 1,000 to a statement); a bigint 0.6 against 0.2.

Not COPY: asyncpg's binary copy_records_to_table, tried first in the same savepoint, cost
PostgreSQL more at the consumer's batches (a median of 1,052 rows in a drain): 5.3-5.4
against 4.7-4.75 µs a row for a signature and its action id, at about the same CPU of the
consumer (1.25-1.29 against 1.34-1.35). COPY's fixed cost per statement pays off only
from some 5,000 rows; a drain of a million with it read 4.20 and 4.30 times its floor
against 4.00 and 4.02 (alternated).

A batch whose text holds a separator goes as arrays, as does a single row (an empty
text would split into no element at all): what is stored never depends on the way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import asyncpg

from shared.db import Conn

SEPARATOR = "\x1f"  # ASCII unit separator: no name or key has it, and if one does, see above
NULL = "\x1e"  # ASCII record separator, alone between two separators: a NULL
_SPLIT = "string_to_array(${n}, E'\\x1f', E'\\x1e')"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# asyncpg sends datetime.min and max as -infinity and infinity, and refuses a time whose
# UTC is out of datetime's range (a record set aside with that error): such a time goes
# its way, so what is stored or refused never depends on packing.
_FIRST, _LAST = (
    (m.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND for m in (datetime.min, datetime.max)
)


class Unpackable(ValueError):
    """A value that cannot go packed: its column goes as an array."""


def microseconds(moment: datetime) -> str:
    """`moment` as the count of microseconds since the epoch (exact: integers both ways)."""
    count = (moment - _EPOCH) // _MICROSECOND
    if not _FIRST < count < _LAST:
        raise Unpackable(moment)
    return str(count)


class Packing(NamedTuple):
    """How a column of one SQL type goes packed: each value's text (None: the values are
    texts already), the unnest argument that splits them, and what the insert selects."""

    text_of: Callable[[Any], str] | None
    argument: str  # {split}: the split text
    selected: str  # {c}: the unnest column


PACKINGS = {
    "text": Packing(None, "{split}", "{c}"),
    "bigint": Packing(str, "{split}::bigint[]", "{c}"),
    # Whole seconds, then the microseconds left: an interval times a number goes through
    # a double, exact for the seconds of any year Python has (where the microseconds in
    # one product would not be past 2255).
    "timestamptz": Packing(
        microseconds,
        "{split}::bigint[]",
        "timestamptz 'epoch' + {c} / 1000000 * interval '1 second' "
        "+ {c} % 1000000 * interval '1 microsecond'",
    ),
}


def columns(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows' columns, one tuple each, in the order of their fields: the arrays of an
    unnest insert, transposed in one pass (a list per field cost 8 % of the consumer)."""
    return list(zip(*rows, strict=True))


def packed(values: Sequence[Any], text_of: Callable[[Any], str] | None = None) -> str | None:
    """The values (their `text_of`, if given) as one text that string_to_array(text,
    SEPARATOR, NULL) splits back into exactly them, or None where it would not: fewer
    than two values, a value holding SEPARATOR or NULL, or one `text_of` refuses."""
    if len(values) < 2:
        return None
    nulls = values.count(None)
    if text_of is not None:
        try:
            values = (
                [None if v is None else text_of(v) for v in values]
                if nulls
                else list(map(text_of, values))
            )
        except Unpackable:
            return None
    if nulls:
        text = SEPARATOR.join(NULL if v is None else v for v in values)
    else:
        text = SEPARATOR.join(values)
    if text.count(SEPARATOR) != len(values) - 1 or text.count(NULL) != nulls:
        return None
    return text


class BulkInsert:
    """`INSERT INTO {into} SELECT … FROM unnest(…) {then}` for columns of `types` (SQL
    type names): those of PACKINGS' types packed (see the module's docstring) when all
    can be, the others as arrays.

    `new_first`, for a `then` of ON CONFLICT … DO NOTHING whose keys are nearly always
    new: a plain insert first, in a savepoint, and only if a key is taken (the savepoint
    rolled back) the insert with `then`. Either way the same rows are stored; the plain
    one spares PostgreSQL the speculative insertion of each row (measured beside 400,000
    signatures: 32 against 40 µs per row, the savepoint's round trips included)."""

    def __init__(
        self, into: str, types: Sequence[str], then: str = "", new_first: bool = False
    ) -> None:
        self.packings = [PACKINGS.get(t) for t in types]
        self.new_first = new_first
        arrays = ", ".join(f"${n}::{t}[]" for n, t in enumerate(types, 1))
        split, selected = [], []
        for n, (t, packing) in enumerate(zip(types, self.packings, strict=True), 1):
            if packing is None:
                split.append(f"${n}::{t}[]")
                selected.append(f"c{n}")
            else:
                split.append(packing.argument.format(split=_SPLIT.format(n=n)))
                selected.append(packing.selected.format(c=f"c{n}"))
        names = ", ".join(f"c{n}" for n in range(1, len(types) + 1))
        self.as_arrays = f"INSERT INTO {into} SELECT * FROM unnest({arrays})"
        self.as_packed = (
            f"INSERT INTO {into} SELECT {', '.join(selected)} "
            f"FROM unnest({', '.join(split)}) AS u({names})"
        )
        self.then = f" {then}".rstrip()

    def statement(self, rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
        """The statement and its arguments for `rows` (tuples in the order of `types`)."""
        sql, args = self._plain(columns(rows))
        return sql + self.then, args

    async def run(self, conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
        await self.run_columns(conn, columns(rows))

    async def run_columns(
        self, conn: Conn, by_column: Sequence[Sequence[Any]]
    ) -> list[asyncpg.Record] | None:
        """Insert rows given as their columns; None when a `new_first` plain insert took
        them all, else the rows the insert with `then` returned (a RETURNING in `then`)."""
        sql, args = self._plain(by_column)
        if self.new_first:
            try:
                async with conn.transaction():
                    await conn.execute(sql, *args)
                return None
            except asyncpg.UniqueViolationError:
                pass  # a key already taken: again, with `then` skipping the taken ones
        return await conn.fetch(sql + self.then, *args)

    def _plain(self, by_column: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """The statement without `then`, and its arguments, for rows given as their
        columns (sequences of one length, in the order of `types`)."""
        if not by_column or len(by_column[0]) < 2:
            return self.as_arrays, list(by_column)
        args: list[Any] = []
        for values, packing in zip(by_column, self.packings, strict=True):
            text = values if packing is None else packed(values, packing.text_of)
            if text is None:
                return self.as_arrays, list(by_column)
            args.append(text)
        return self.as_packed, args
