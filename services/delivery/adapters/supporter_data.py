"""What delivery holds about one supporter, for `plume supporters export`: their named
signatures (and the dossiers they are in), their unnamed ones, their messages."""

from __future__ import annotations

from typing import Any

import orjson

from shared.db import Conn


async def held_about(conn: Conn, schema: str, subjects: list[str]) -> dict[str, Any]:
    s = f'"{schema}"'
    named = await conn.fetch(
        "SELECT g.case_id, g.name, g.country, g.signed_at, g.received_at, g.consent_text_id, "
        "coalesce(("
        "SELECT jsonb_agg(jsonb_build_object('dossier_id', d.id, 'target_id', d.target_id, "
        f"'status', d.status)) FROM {s}.dossiers d WHERE d.cut_id = g.cut_id), '[]') "
        f"AS dossiers FROM {s}.signatures_with_cut g WHERE g.supporter_key = ANY($1) ORDER BY g.id",
        subjects,
    )
    unnamed = await conn.fetch(
        f"SELECT case_id, country, consent_text_id FROM {s}.unnamed_supporters "
        "WHERE supporter_key = ANY($1)",
        subjects,
    )
    messages = await conn.fetch(
        f"SELECT action_id, case_id, first_name, country, message, written_at "
        f"FROM {s}.solidarity_messages WHERE supporter_key = ANY($1) ORDER BY id",
        subjects,
    )
    return {
        "signatures_for_dossiers": [
            {**dict(r), "dossiers": orjson.loads(r["dossiers"])} for r in named
        ],
        "signatures_counted_without_name": [dict(r) for r in unnamed],
        "solidarity_messages": [dict(r) for r in messages],
    }
