"""Erasure of a supporter's personal data, requested by `plume supporters erase` or
`POST /v1/erasures`: the data key is destroyed at once (so every sealed copy, in Kafka or
anywhere, is unreadable), and a receipt is kept (never the email). The services that hold
rows of their own (`SCRUBBING`) then scrub them and add what they did to the receipt; the
receipt is complete when none is pending."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from shared.data_keys import DataKeyStore
from shared.db import Conn

# Counter holds no personal data (only the key's random id); intake holds signatures
# waiting for their supporter's confirmation, delivery the dossiers' rows.
SCRUBBING = ("delivery", "intake")


@dataclass(frozen=True)
class PendingErasure:
    receipt_id: uuid.UUID
    subjects: list[str]  # the ids the supporter's rows carry (key id, and the email's hash)


async def request_erasure(
    pool: asyncpg.Pool, keys: DataKeyStore, lookup: str, requested_by: str
) -> uuid.UUID:
    """Destroy the data key of `lookup` (intake's keyed hash of the email) and keep the
    receipt, in one transaction; the receipt's id."""
    receipt_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        key_id = await keys.destroy(conn, lookup)
        # The hash too: actions written before sealing carried it as their supporter key.
        subjects = [lookup] + ([key_id] if key_id else [])
        await conn.execute(
            "INSERT INTO supporters.erasures (receipt_id, requested_by, key_destroyed, "
            "subjects, pending, report) VALUES ($1, $2, $3, $4, $5, $6)",
            receipt_id,
            requested_by,
            key_id is not None,
            subjects,
            list(SCRUBBING),
            orjson.dumps({"data_key_destroyed": key_id is not None}).decode(),
        )
    return receipt_id


async def pending_for(conn: Conn, service: str, limit: int = 20) -> list[PendingErasure]:
    """Erasures `service` has still to do, locked until `conn`'s transaction ends (one
    process of the service does each)."""
    rows = await conn.fetch(
        "SELECT receipt_id, subjects FROM supporters.erasures "
        "WHERE completed_at IS NULL AND $1 = ANY(pending) "
        "ORDER BY requested_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        service,
        limit,
    )
    return [PendingErasure(r["receipt_id"], list(r["subjects"])) for r in rows]


async def done_by(conn: Conn, receipt_id: uuid.UUID, service: str, report: Any) -> None:
    """Record what `service` did; the last one completes the receipt and forgets the
    supporter's ids."""
    await conn.execute(
        "UPDATE supporters.erasures SET pending = array_remove(pending, $2), "
        "report = report || jsonb_build_object($2::text, $3::jsonb), "
        "completed_at = CASE WHEN pending = ARRAY[$2] THEN now() END, "
        "subjects = CASE WHEN pending = ARRAY[$2] THEN '{}'::text[] ELSE subjects END "
        "WHERE receipt_id = $1",
        receipt_id,
        service,
        orjson.dumps(report).decode(),
    )


async def receipt(conn: Conn, receipt_id: uuid.UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT receipt_id, requested_at, requested_by, pending, report, completed_at "
        "FROM supporters.erasures WHERE receipt_id = $1",
        receipt_id,
    )
    if row is None:
        return None
    return {
        "receipt_id": str(row["receipt_id"]),
        "requested_at": _iso(row["requested_at"]),
        "requested_by": row["requested_by"],
        "pending": list(row["pending"]),
        "completed_at": _iso(row["completed_at"]),
        "done": orjson.loads(row["report"]),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
