"""A cut of signatures records the range of ids it seals and writes nothing into the rows
(migration 007). Exact only if no row below its range commits after it: a cut waits for
the transactions storing signatures, whose rows it then seals; cuts made before the
migration keep the rows that carry their id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from services.delivery.adapters import cut_rows
from services.delivery.adapters.cutting import PgCutter
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.bootstrap import MIGRATIONS
from services.delivery.domain.addressees import Addressee, CutOrder
from services.delivery.domain.intake import NamedSignature, SortedActions
from services.delivery.domain.policy import CutReason
from shared import db
from shared.contracts.dossiers import DossierKind
from shared.db import Conn
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
# A cut waiting for the lock that storing transactions hold shared.
WAITING = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    "AND classid = 0 AND objid = $1::bigint::oid"
)
ORDER = CutOrder(
    "c", DossierKind.SIGNATURES, CutReason.REQUESTED, [Addressee("t", {"id": "t"})], {}
)


def signed(*names: str) -> SortedActions:
    return SortedActions(named=[NamedSignature("c", n, n, "FR", NOW) for n in names])


async def names_of(conn: Conn, schema: str, cut_id: int) -> list[str]:
    s = f'"{schema}"'
    where, args = cut_rows.rows_of(await cut_rows.span_of(conn, s, cut_id) or cut_id)
    return [r[0] for r in await conn.fetch(f"SELECT name FROM {s}.signatures WHERE {where}", *args)]


async def test_a_cut_waits_for_the_signatures_being_stored_and_seals_them(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    conns, schema = pool
    await db.migrate(conns, schema, MIGRATIONS)
    store, s = PgSignatureStore(schema), f'"{schema}"'
    async with conns.acquire() as slow, conns.acquire() as fast, conns.acquire() as probe:
        slow_batch = slow.transaction()
        await slow_batch.start()
        await store.add(slow, signed("early-1", "early-2"))  # lower ids, not committed yet
        async with fast.transaction():
            await store.add(fast, signed("late-1"))
        # Each row's version before the cut (xmin: the transaction, or the savepoint of
        # it, that wrote it), seen from the storing transaction, which sees all three.
        stored = await slow.fetch(f"SELECT name, xmin::text AS xid FROM {s}.signatures")
        assert sorted(r["name"] for r in stored) == ["early-1", "early-2", "late-1"]
        sealed = asyncio.Event()  # the renderer's wake-up
        cutting = asyncio.ensure_future(PgCutter(conns, schema, sealed).cut(ORDER))
        await wait_until(lambda: probe.fetchval(WAITING, cut_rows.sealing_key(schema)), bool)
        assert not cutting.done()
        await slow_batch.commit()
        (dossier,) = await cutting
        assert sealed.is_set()
        cut_id = await probe.fetchval(f"SELECT cut_id FROM {s}.dossiers WHERE id = $1", dossier)
        assert sorted(await names_of(probe, schema, cut_id)) == ["early-1", "early-2", "late-1"]
        assert await probe.fetchval(f"SELECT count FROM {s}.cuts WHERE id = $1", cut_id) == 3
        versions = await probe.fetch(f"SELECT name, xmin::text AS xid FROM {s}.signatures")
        # no row written by the cut: each keeps the version it was stored as
        assert {r["name"]: r["xid"] for r in versions} == {r["name"]: r["xid"] for r in stored}
        async with probe.transaction():
            await store.add(probe, signed("next"))
        assert await PgCutter(conns, schema).pending() != []
        (second,) = await PgCutter(conns, schema).cut(ORDER)
        second_cut = await probe.fetchval(f"SELECT cut_id FROM {s}.dossiers WHERE id = $1", second)
        assert await names_of(probe, schema, second_cut) == ["next"]
        assert await PgCutter(conns, schema).pending() == []
        sealed.clear()
        assert await PgCutter(conns, schema, sealed).cut(ORDER) == []  # nothing left: no cut
        assert not sealed.is_set()


async def test_cuts_made_before_migration_007_keep_their_rows(
    pool: tuple[asyncpg.Pool, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conns, schema = pool
    every = db._migration_files(MIGRATIONS)
    monkeypatch.setattr(db, "_migration_files", lambda _: [m for m in every if m[0] < "007"])
    await db.migrate(conns, schema, MIGRATIONS)
    s = f'"{schema}"'
    async with conns.acquire() as conn:
        async with conn.transaction():
            await PgSignatureStore(schema).add(conn, signed("old-1", "old-2", "pending-1"))
        legacy = await conn.fetchval(
            f"INSERT INTO {s}.cuts (case_id, kind, reason, count, by_country) "
            "VALUES ('c', 'signatures', 'size', 2, '{\"FR\": 2}') RETURNING id"
        )
        await conn.execute(f"UPDATE {s}.signatures SET cut_id = $1 WHERE name LIKE 'old-%'", legacy)
        monkeypatch.setattr(db, "_migration_files", lambda _: every)
        assert await db.migrate(conns, schema, MIGRATIONS) == [
            "007_signature_cut_ranges.sql",
            "008_pending_tallies.sql",
        ]
        async with conn.transaction():
            await PgSignatureStore(schema).add(conn, signed("new-1"))
        # pending-1 counted by migration 008, new-1 as it was stored; the legacy cut's not
        assert [p.count for p in await PgCutter(conns, schema).pending()] == [2]
        (dossier,) = await PgCutter(conns, schema).cut(ORDER)
        cut_id = await conn.fetchval(f"SELECT cut_id FROM {s}.dossiers WHERE id = $1", dossier)
        assert sorted(await names_of(conn, schema, cut_id)) == ["new-1", "pending-1"]
        assert sorted(await names_of(conn, schema, legacy)) == ["old-1", "old-2"]
        assert await cut_rows.tally(conn, s, "signatures", legacy) == (2, {"FR": 2})
        rows = await conn.fetch(f"SELECT name, cut_id FROM {s}.signatures_with_cut")
        assert {r["name"]: r["cut_id"] for r in rows} == {
            "old-1": legacy,
            "old-2": legacy,
            "pending-1": cut_id,
            "new-1": cut_id,
        }
