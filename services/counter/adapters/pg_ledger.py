"""The ledger of counted actions in PostgreSQL (implements domain.ports.Ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import orjson

from services.counter.domain.model import LedgerEntry, Tally
from services.counter.domain.ports import Invalidation
from shared.action_ids import ActionIdentity
from shared.db import Conn

_COLUMNS = (
    "action_id, case_id, type, channel, country, count, supporter_key, source, accepted_at, "
    "network_hash, email_domain_hash"
)
_TYPES = (
    "uuid",
    "text",
    "text",
    "text",
    "text",
    "int",
    "text",
    "text",
    "timestamptz",
    "text",
    "text",
)
# Each entry travels as a JSON array in LedgerEntry's field order.
_FROM_JSON = ", ".join(f"(x->>{i})::{t}" for i, t in enumerate(_TYPES))


def entry_from_row(row: asyncpg.Record) -> LedgerEntry:
    values = [row[name] for name in _COLUMNS.split(", ")]
    return LedgerEntry(*values)


class PostgresLedger:
    def __init__(self, conn: Conn, schema: str) -> None:
        self.conn = conn
        self.table = f'"{schema}".ledger'

    async def record(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        if not entries:
            return []
        # One statement for the batch, its rows sent as one JSON document: encoding a
        # batch with orjson costs the consumer far less than asyncpg's per-element array
        # encoding. As jsonb it is parsed once; `->>` on plain json rescans the element
        # for each field (measured: 14 against 9 µs per row). ON CONFLICT without a
        # target skips both a known action_id and a second signature of a supporter.
        rows = await self.conn.fetch(
            f"INSERT INTO {self.table} ({_COLUMNS}) SELECT {_FROM_JSON} "
            "FROM jsonb_array_elements($1::text::jsonb) AS x "
            "ON CONFLICT DO NOTHING RETURNING action_id",
            orjson.dumps([tuple(e) for e in entries]).decode(),
        )
        inserted = {row["action_id"] for row in rows}
        return [e for e in entries if e.action_id in inserted]

    async def identities(self, action_ids: list[UUID]) -> dict[UUID, ActionIdentity]:
        rows = await self.conn.fetch(
            "SELECT action_id, case_id, type, count, channel, country, source, supporter_key "
            f"FROM {self.table} WHERE action_id = ANY($1::uuid[])",
            action_ids,
        )
        return {r["action_id"]: ActionIdentity(*tuple(r)[1:]) for r in rows}

    async def invalidate(self, criteria: Invalidation) -> list[LedgerEntry]:
        if criteria.is_empty():
            raise ValueError("refusing to invalidate the whole ledger: give a criterion")
        rows = await self.conn.fetch(
            f"UPDATE {self.table} SET invalidated_at = now() "
            "WHERE invalidated_at IS NULL "
            "AND ($1::text IS NULL OR source = $1) AND ($2::text IS NULL OR case_id = $2) "
            "AND ($3::timestamptz IS NULL OR accepted_at >= $3) "
            "AND ($4::timestamptz IS NULL OR accepted_at < $4) "
            "AND ($5::text IS NULL OR network_hash = $5) "
            "AND ($6::text IS NULL OR email_domain_hash = $6) "
            f"RETURNING {_COLUMNS}",
            criteria.source,
            criteria.case_id,
            criteria.accepted_from,
            criteria.accepted_to,
            criteria.network_hash,
            criteria.email_domain_hash,
        )
        return [entry_from_row(row) for row in rows]

    async def live_tally(self, case_id: str | None) -> Tally:
        """Summed in PostgreSQL by (case, type, country, channel, hour), then folded."""
        rows = await self.conn.fetch(
            "SELECT case_id, type, country, channel, "
            "to_char(date_trunc('hour', accepted_at AT TIME ZONE 'UTC'), "
            '\'YYYY-MM-DD"T"HH24:00:00"Z"\') AS hour, sum(count)::bigint AS n '
            f"FROM {self.table} WHERE invalidated_at IS NULL "
            "AND ($1::text IS NULL OR case_id = $1) "
            "GROUP BY 1, 2, 3, 4, 5",
            case_id,
        )
        return _fold(rows)


def _fold(rows: Sequence[asyncpg.Record]) -> Tally:
    result = Tally()
    for row in rows:
        case, amount = row["case_id"], row["n"]
        result.totals[case] = result.totals.get(case, 0) + amount
        for dimension in ("type", "country", "channel", "hour"):
            key = (case, dimension, row[dimension])
            result.rows[key] = result.rows.get(key, 0) + amount
    return result
