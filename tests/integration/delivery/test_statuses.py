"""The status gauges against PostgreSQL: counts per status and the age, since sealing, of
the oldest dossier still waiting in each status and channel (acknowledged ones never)."""

from __future__ import annotations

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.delivery import metrics
from services.delivery.adapters import statuses
from tests.integration.delivery.test_pg_ledger import insert_dossier, schema_pool  # noqa: F401

pytestmark = pytest.mark.integration
HOUR = 3600.0


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_oldest_waiting_dossier_ages_and_counts(
    schema_pool: tuple[asyncpg.Pool, str],  # noqa: F811
) -> None:
    pool, schema = schema_pool
    await insert_dossier(pool, schema, "email", status="sealed", age_s=0.1 * HOUR)
    await insert_dossier(pool, schema, "email", status="sealed", age_s=2 * HOUR)
    await insert_dossier(pool, schema, "manual", status="sealed", age_s=30 * HOUR)
    await insert_dossier(pool, schema, "webhook", status="sent", age_s=50 * HOUR)
    await insert_dossier(pool, schema, "manual", status="acknowledged", age_s=500 * HOUR)
    async with pool.acquire() as conn:
        figures = await statuses.read_statuses(conn, schema)
    metrics.export_statuses(figures)

    assert figures.counts == {"sealed": 3, "sent": 1, "acknowledged": 1}
    age = "plume_delivery_oldest_dossier_age_seconds"
    assert gauge(age, status="sealed", channel="email") == pytest.approx(2 * HOUR, abs=60)
    assert gauge(age, status="sealed", channel="manual") == pytest.approx(30 * HOUR, abs=60)
    assert gauge(age, status="sent", channel="webhook") == pytest.approx(50 * HOUR, abs=60)
    # Nothing waiting reads 0, and acknowledged dossiers have no age series at all.
    assert gauge(age, status="failed", channel="email") == 0
    assert gauge(age, status="acknowledged", channel="manual") is None
    assert gauge("plume_delivery_dossiers", status="sealed") == 3
    assert gauge("plume_delivery_dossiers", status="failed") == 0
