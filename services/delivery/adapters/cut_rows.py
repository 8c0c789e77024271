"""Which rows a cut holds. A cut of signatures writes nothing into the rows it seals
(migration 007): it records their ids, its case's rows with after_id < id <= upto_id.
That is exact because every transaction that stores or deletes signatures first takes
the SEALING lock shared, and a cut takes it exclusively: when the cut reads the largest
pending id, every row below it has committed, and a row stored later gets a larger id
(ids come from a sequence). Cuts made before migration 007, and every cut of solidarity
messages, wrote their id into their rows' cut_id (their upto_id is NULL)."""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

from shared.db import Conn


class Span(NamedTuple):
    """The signatures a cut sealed by range."""

    case_id: str
    after_id: int
    upto_id: int


def sealing_key(schema: str) -> int:
    return zlib.crc32(f"{schema}:signatures:sealing".encode())


async def hold_sealing_shared(conn: Conn, schema: str) -> None:
    """Until this transaction ends, no cut of signatures runs: before storing or deleting."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", sealing_key(schema))


async def hold_sealing(conn: Conn, schema: str) -> None:
    """Wait for every transaction storing or deleting signatures, and hold off new ones
    until this one (a cut) ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", sealing_key(schema))


def rows_of(cut: Span | int) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause of a cut's rows, and its arguments ($1 on): by range for a Span,
    by cut_id for a cut id."""
    if isinstance(cut, Span):
        return "case_id = $1 AND cut_id IS NULL AND id > $2 AND id <= $3", tuple(cut)
    return "cut_id = $1", (cut,)


async def span_of(conn: Conn, schema_sql: str, cut_id: int) -> Span | None:
    row = await conn.fetchrow(
        f"SELECT case_id, after_id, upto_id FROM {schema_sql}.cuts "
        "WHERE id = $1 AND upto_id IS NOT NULL",
        cut_id,
    )
    return Span(*row) if row else None


async def tally(conn: Conn, schema_sql: str, table: str, cut_id: int) -> tuple[int, dict[str, int]]:
    """A cut's items: how many, and how many per country."""
    span = await span_of(conn, schema_sql, cut_id) if table == "signatures" else None
    where, args = rows_of(span or cut_id)
    rows = await conn.fetch(
        f"SELECT country, count(*) AS n FROM {schema_sql}.{table} WHERE {where} "
        "GROUP BY country ORDER BY country",
        *args,
    )
    by_country = {r["country"]: r["n"] for r in rows}
    return sum(by_country.values()), by_country


async def pending_span(
    conn: Conn, schema_sql: str, case_id: str
) -> tuple[Span, dict[str, int]] | None:
    """The signatures of a case no cut holds yet, and how many per country (None: none).
    Only exact while the SEALING lock is held."""
    after = await conn.fetchval(
        f"SELECT coalesce(max(upto_id), 0) FROM {schema_sql}.cuts "
        "WHERE case_id = $1 AND upto_id IS NOT NULL",
        case_id,
    )
    rows = await conn.fetch(
        f"SELECT country, count(*) AS n, max(id) AS upto FROM {schema_sql}.signatures "
        "WHERE case_id = $1 AND cut_id IS NULL AND id > $2 GROUP BY country ORDER BY country",
        case_id,
        after,
    )
    if not rows:
        return None
    span = Span(case_id, after, max(r["upto"] for r in rows))
    return span, {r["country"]: r["n"] for r in rows}


def pending_signatures_sql(schema_sql: str) -> str:
    """Per case: how many of its signatures no cut holds, and since when ($1: the kind),
    from the tallies the database keeps of them (migration 008)."""
    return (
        "SELECT case_id, $1::text AS kind, sum(signatures) AS n, min(oldest) AS oldest "
        f"FROM {schema_sql}.pending_tallies GROUP BY case_id HAVING sum(signatures) > 0"
    )


async def seal_unnamed(conn: Conn, schema_sql: str, case_id: str, cut_id: int) -> tuple[int, int]:
    """Give this cut the supporters who signed without sharing their name (and did not
    also sign with it) since the previous cut; how many, from how many countries (its
    cover counts them)."""
    row = await conn.fetchrow(
        f"WITH sealed AS (UPDATE {schema_sql}.unnamed_supporters u SET cut_id = $2 "
        "WHERE u.case_id = $1 AND u.cut_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
        f"{schema_sql}.signatures s WHERE s.case_id = u.case_id "
        "AND s.supporter_key = u.supporter_key) RETURNING country) "
        "SELECT count(*) AS n, count(DISTINCT country) AS m FROM sealed",
        case_id,
        cut_id,
    )
    assert row is not None
    return int(row["n"]), int(row["m"])
