"""Delivery integration tests start the delivery service they need; they use only Kafka
and PostgreSQL of the stack, never the running services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.delivery.settings import DeliverySettings
from shared import db
from tests.integration.delivery.helpers import create_topics, drop_schema, isolated_settings

MakeSettings = Callable[..., Awaitable[DeliverySettings]]


@pytest.fixture(autouse=True)
def _needs_stack() -> None:
    """Overrides tests/integration/conftest.py: Kafka and PostgreSQL are enough."""


@pytest.fixture
async def make_settings(tmp_path: Path) -> AsyncIterator[MakeSettings]:
    made: list[DeliverySettings] = []

    async def make(partitions: int = 4, **overrides: Any) -> DeliverySettings:
        settings = isolated_settings(tmp_path, **overrides)
        await create_topics(settings, partitions)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        await drop_schema(settings)


@pytest.fixture
async def pool(make_settings: MakeSettings) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """A pool to PostgreSQL and a delivery schema of the test's own, not migrated yet."""
    settings = await make_settings(partitions=1)
    pool = await db.create_pool(settings.database_url, max_size=4)
    try:
        yield pool, settings.db_schema
    finally:
        await pool.close()
