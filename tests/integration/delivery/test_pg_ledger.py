"""The TransmissionLedger contract against PostgreSQL (the fake runs it in tests/unit)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest

from services.delivery.adapters.ledger import PgTransmissionLedger
from shared.db import create_pool, migrate
from shared.settings import InfraSettings
from tests.unit.delivery.ports_contract import LedgerContract, Seed

pytestmark = pytest.mark.integration
DESTINATIONS = {
    "manual": {"channel": "manual"},
    "email": {"channel": "email", "address": "a@example.org"},
    "webhook": {"channel": "webhook", "url": "http://127.0.0.1:1/"},
}


@pytest.fixture
async def schema_pool() -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    schema = f"delivery_l_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(InfraSettings().database_url)
    await migrate(pool, schema, "services.delivery.adapters.migrations")
    yield pool, schema
    async with pool.acquire() as conn:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


async def insert_dossier(
    pool: asyncpg.Pool,
    schema: str,
    channel: str,
    *,
    rendered: bool = False,
    status: str = "sealed",
    age_s: float = 0.0,
) -> uuid.UUID:
    """A dossier of its own cut for a target reached by `channel`, sealed `age_s` ago."""
    dossier_id = uuid.uuid4()
    target = {"id": "t", "name": "T", "language": "en", "delivery": DESTINATIONS[channel]}
    async with pool.acquire() as conn, conn.transaction():
        cut = await conn.fetchval(
            f'INSERT INTO "{schema}".cuts (case_id, kind, reason, count, by_country) '
            "VALUES ('c', 'signatures', 'requested', 1, '{}') RETURNING id"
        )
        await conn.execute(
            f'INSERT INTO "{schema}".dossiers (id, cut_id, case_id, target_id, kind, '
            "target, case_snapshot, count, by_country, files, rendered_at, status, created_at) "
            "VALUES ($1, $2, 'c', 't', 'signatures', $3, '{}', 1, '{}', $4, "
            "CASE WHEN $5 THEN now() END, $6, now() - make_interval(secs => $7))",
            dossier_id,
            cut,
            orjson.dumps(target).decode(),
            '{"signatures.csv": "00"}' if rendered else None,
            rendered,
            status,
            age_s,
        )
    return dossier_id


class TestPgLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, schema_pool: tuple[asyncpg.Pool, str]) -> PgTransmissionLedger:
        return PgTransmissionLedger(*schema_pool)

    @pytest.fixture
    def seed(self, schema_pool: tuple[asyncpg.Pool, str]) -> Seed:
        pool, schema = schema_pool

        async def add(channel: str, rendered: bool) -> uuid.UUID:
            dossier_id = await insert_dossier(pool, schema, channel, rendered=rendered)
            async with pool.acquire() as conn:
                await conn.execute(
                    f"INSERT INTO \"{schema}\".outbox (dossier_id, status) VALUES ($1, 'sealed')",
                    dossier_id,
                )
            return dossier_id

        return add
