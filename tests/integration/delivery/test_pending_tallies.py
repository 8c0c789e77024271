"""The cutter's check reads the tallies the database keeps of each case's pending
signatures (migration 008): after every kind of write they must equal what counting the
pending rows themselves gives (the check's query before the tallies)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services.delivery.adapters.cutting import PgCutter
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.bootstrap import MIGRATIONS
from services.delivery.domain.addressees import Addressee, CutOrder
from services.delivery.domain.intake import NamedSignature, SortedActions
from services.delivery.domain.policy import CutReason
from shared import db
from shared.contracts.dossiers import DossierKind

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
# Per case: its signatures no cut holds (no cut_id, above the case's last range).
COUNTED = (
    "SELECT case_id, count(*) AS n, min(received_at) AS oldest FROM {s}.signatures g "
    "WHERE cut_id IS NULL AND id > coalesce((SELECT max(upto_id) FROM {s}.cuts c "
    "WHERE c.case_id = g.case_id AND upto_id IS NOT NULL), 0) GROUP BY case_id"
)


def signed(case_id: str, *keys: str) -> SortedActions:
    return SortedActions(named=[NamedSignature(case_id, k, f"Name {k}", "FR", NOW) for k in keys])


def order(case_id: str) -> CutOrder:
    return CutOrder(
        case_id, DossierKind.SIGNATURES, CutReason.REQUESTED, [Addressee("t", {"id": "t"})], {}
    )


@pytest.fixture
async def store(pool: tuple[asyncpg.Pool, str]) -> tuple[asyncpg.Pool, str]:
    await db.migrate(*pool, MIGRATIONS)
    return pool


async def test_the_tallies_count_what_each_write_leaves_pending(
    store: tuple[asyncpg.Pool, str],
) -> None:
    pool, schema = store
    signatures, cutter, s = PgSignatureStore(schema), PgCutter(pool, schema), f'"{schema}"'

    async def add(batch: SortedActions) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await signatures.add(conn, batch)

    async def pending() -> dict[str, int]:
        """Each case's pending count, tallied (and since when) as counted from the rows."""
        tallied = {p.case_id: (p.count, p.oldest) for p in await cutter.pending()}
        rows = await pool.fetch(COUNTED.format(s=s))
        assert tallied == {r["case_id"]: (r["n"], r["oldest"]) for r in rows}
        return {case_id: n for case_id, (n, _) in tallied.items()}

    await add(signed("c", "k1", "k2", "k3"))
    await add(signed("d", "k1", "k2"))
    assert await pending() == {"c": 3, "d": 2}
    await add(signed("c", "k1", "k2", "k3", "k4"))  # a replay, and one new: the slow way
    assert await pending() == {"c": 4, "d": 2}
    await pool.execute(f"DELETE FROM {s}.signatures WHERE supporter_key = 'k2'")  # an erasure
    assert await pending() == {"c": 3, "d": 1}
    await cutter.cut(order("c"))
    assert await pending() == {"d": 1}
    await pool.execute(f"DELETE FROM {s}.signatures WHERE supporter_key = 'k3'")  # a sealed one
    assert await pending() == {"d": 1}
    await add(signed("c", "k5"))
    assert await pending() == {"c": 1, "d": 1}
    await cutter.cut(order("d"))
    await cutter.cut(order("c"))
    assert await pending() == {}
    assert await pool.fetchval(f"SELECT count(*) FROM {s}.pending_tallies") == 0


async def test_a_rolled_back_write_leaves_no_tally(store: tuple[asyncpg.Pool, str]) -> None:
    pool, schema = store
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await PgSignatureStore(schema).add(conn, signed("c", "k1"))
        await transaction.rollback()
    assert await PgCutter(pool, schema).pending() == []
