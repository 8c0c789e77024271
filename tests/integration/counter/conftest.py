"""Isolation for counter integration tests: a PostgreSQL schema and Kafka topics of
their own (uuid-suffixed), dropped/left behind harmlessly, never the running counter's."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from uuid import uuid4

import asyncpg
import pytest

from services.counter.adapters.pg_counting import MIGRATIONS
from services.counter.settings import CounterSettings
from shared import kafka
from shared.db import create_pool, migrate
from shared.kafka import ensure_topics


def isolated_settings(**overrides: object) -> CounterSettings:
    suffix = uuid4().hex[:10]
    values: dict[str, object] = {
        "db_schema": f"counter_t_{suffix}",
        "group_id": f"plume-counter-t-{suffix}",
        "actions_topic": f"test.counter.actions.{suffix}",
        "totals_topic": f"test.counter.totals.{suffix}",
        "milestones_topic": f"test.counter.milestones.{suffix}",
        "dlq_topic": f"test.counter.dlq.{suffix}",
        "refresh_interval_s": 0.05,
        "stream_interval_s": 0.1,
    }
    values.update(overrides)
    # the infrastructure fields are read through their shared env names only
    for field, alias in (
        ("database_url", "PLUME_DATABASE_URL"),
        ("kafka_bootstrap", "PLUME_KAFKA_BOOTSTRAP"),
    ):
        if field in values:
            values[alias] = values.pop(field)
    return CounterSettings.model_validate(values)


async def create_topics(settings: CounterSettings, partitions: int = 4) -> None:
    await ensure_topics(settings.kafka_bootstrap, settings.own_topics(partitions))


def counter_env(settings: CounterSettings, port: int) -> dict[str, str]:
    """Environment for `plume serve counter` as a subprocess with these settings."""
    return {**os.environ, **settings.model_copy(update={"port": port}).environment()}


async def clean_up(settings: CounterSettings) -> None:
    """Drop the test's schema and delete its topics."""
    await drop_schema(settings.database_url, settings.db_schema)
    await delete_topics(settings)


async def delete_topics(settings: CounterSettings) -> None:
    """The topics create_topics made (own_topics: their names), deleted."""
    names = [t.name for t in settings.own_topics(actions_partitions=1)]
    await kafka.delete_topics(settings.kafka_bootstrap, names)


async def drop_schema(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
def _needs_stack() -> None:
    """Counter tests start the counters they need; they only need Kafka and PostgreSQL,
    not the running services (overrides tests/integration/conftest.py)."""
    infra = isolated_settings()
    for address in (infra.kafka_bootstrap, infra.database_url.rsplit("@", 1)[-1].split("/")[0]):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=2.0).close()
        except OSError:
            pytest.fail(f"{address} does not answer: start the stack with `make up`")


MakeSettings = Callable[..., Awaitable[CounterSettings]]


@pytest.fixture
async def make_settings() -> AsyncIterator[MakeSettings]:
    """Isolated settings (overrides as keywords) with their topics made, all cleaned up
    after the test."""
    made: list[CounterSettings] = []

    async def make(partitions: int = 4, **overrides: object) -> CounterSettings:
        settings = isolated_settings(**overrides)
        await create_topics(settings, partitions)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        await clean_up(settings)


@pytest.fixture
async def migrated_pool() -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    settings = isolated_settings()
    pool = await create_pool(settings.database_url, max_size=4)
    await migrate(pool, settings.db_schema, MIGRATIONS)
    try:
        yield pool, settings.db_schema
    finally:
        await pool.close()
        await drop_schema(settings.database_url, settings.db_schema)


@pytest.fixture(autouse=True)
def no_counter_outlives_its_test() -> Iterator[None]:
    """A test that fails half-way must not leave `plume serve counter` processes behind."""
    yield
    from tests.integration.counter.helpers import kill_spawned  # helpers imports this module

    kill_spawned()
