"""What a batch's rows become in PostgreSQL is exactly what was sent, whichever way their
text columns went (adapters/bulk_insert.py): packed into one text each, or as arrays when
a value holds the separator or a batch has one row. Empty texts, NULLs and other scripts
included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.delivery.adapters.bulk_insert import NULL, SEPARATOR
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.bootstrap import MIGRATIONS
from services.delivery.domain.intake import (
    NamedSignature,
    SolidarityMessage,
    SortedActions,
    UnnamedSupporter,
)
from shared.db import create_pool, migrate
from tests.integration.delivery.conftest import MakeSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 10, 9, 30, 5, 987654, tzinfo=UTC)
# Times go as microseconds since the epoch: before it, across offsets, near the extremes
# (at them, datetime.min and max, asyncpg's arrays send -infinity and infinity instead).
MOMENTS = [
    NOW,
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999998, tzinfo=UTC),
    datetime(2026, 12, 10, 23, 30, 0, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    NOW + timedelta(microseconds=1),
]
NAMES = ["Awa Diallo", "", "Иван Петров", "王小明", " spaced ", "=1+1", 'a,b;"c"\n\'d']


def batch(tag: str, names: list[str]) -> SortedActions:
    return SortedActions(
        named=[
            NamedSignature(
                "c", f"{tag}{i}", n, "FR", MOMENTS[i % 6], None if i % 2 else f"consent-{i}"
            )
            for i, n in enumerate(names)
        ],
        unnamed=[
            UnnamedSupporter("c", f"{tag}u{i}", n or "ZZ", None if i % 3 else "consent")
            for i, n in enumerate(names)
        ],
        messages=[
            SolidarityMessage(
                str(uuid.uuid4()),
                "c",
                n or None,
                "FR",
                f"{n} stay strong",
                MOMENTS[-1 - i % 6],
                f"{tag}{i}",
            )
            for i, n in enumerate(names)
        ],
    )


@pytest.mark.parametrize(
    "names",
    [
        NAMES,  # packed
        ["", ""],  # packed: one separator, two empty texts
        ["Alone"],  # a single row: arrays
        [*NAMES, f"with{SEPARATOR}separator"],  # arrays
        [*NAMES, f"with{NULL}marker", NULL],  # arrays
    ],
)
async def test_rows_are_stored_exactly_as_sent(
    make_settings: MakeSettings, names: list[str]
) -> None:
    settings = await make_settings(partitions=1)
    pool = await create_pool(settings.database_url)
    store, s = PgSignatureStore(settings.db_schema), f'"{settings.db_schema}"'
    sent = batch("k", names)
    try:
        await migrate(pool, settings.db_schema, MIGRATIONS)
        async with pool.acquire() as conn, conn.transaction():
            await store.add(conn, sent)
            named = await conn.fetch(
                f"SELECT case_id, supporter_key, name, country, signed_at, consent_text_id "
                f"FROM {s}.signatures ORDER BY id"
            )
            unnamed = await conn.fetch(
                f"SELECT case_id, supporter_key, country, consent_text_id "
                f"FROM {s}.unnamed_supporters ORDER BY supporter_key"
            )
            messages = await conn.fetch(
                f"SELECT action_id::text, case_id, first_name, country, message, written_at, "
                f"supporter_key FROM {s}.solidarity_messages ORDER BY id"
            )
        assert [tuple(r) for r in named] == sent.named
        assert [tuple(r) for r in unnamed] == sorted(sent.unnamed, key=lambda u: u.supporter_key)
        assert [tuple(r) for r in messages] == sent.messages
    finally:
        await pool.close()
