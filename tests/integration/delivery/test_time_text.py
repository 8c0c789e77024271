"""The time of a signature in a dossier's files is written by PostgreSQL (rendering's
UTC_SECOND): UTC, to the second (truncated), with a Z, the same text as strftime's; never
a formula's start, even at the extremes (the CSV writes it without safe_cell)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest

from services.delivery.adapters.rendering import UTC_SECOND
from services.delivery.domain.csvsafe import PLAIN_STARTS
from services.delivery.settings import DeliverySettings

pytestmark = pytest.mark.integration
TEXTS = {
    datetime(2026, 12, 10, 9, 30, 5, 987654, tzinfo=timezone(timedelta(hours=1))): (
        "2026-12-10T08:30:05Z"
    ),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC): "2026-01-02T03:04:05Z",
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))): (
        "2027-01-01T04:59:59Z"
    ),
    datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC): "0001-01-01T00:00:01Z",
    datetime(1, 1, 1, tzinfo=UTC): "0001-01-01T00:00:00Z",  # asyncpg: -infinity
    datetime.max.replace(tzinfo=UTC): "9999-12-31T23:59:59Z",  # asyncpg: infinity
}


async def test_a_time_is_written_in_utc_to_the_second_with_a_z() -> None:
    conn = await asyncpg.connect(DeliverySettings().database_url)
    try:
        texts = await conn.fetch(
            f"SELECT {UTC_SECOND} FROM unnest($1::timestamptz[]) AS t(signed_at)", list(TEXTS)
        )
    finally:
        await conn.close()
    assert [t[0] for t in texts] == list(TEXTS.values())
    assert all(t[0][:1] in PLAIN_STARTS for t in texts)  # the CSV writes it as is
    for moment, text in list(TEXTS.items())[:3]:  # the text strftime gave
        assert moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == text
