"""Isolation and drivers for delivery tests: a schema, topics, a dossier folder and a
consumer group of their own (uuid-suffixed), cases published to the test's own catalogue
topic, and the service itself run in-process or as `plume serve delivery`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from services.delivery.bootstrap import create_app
from services.delivery.settings import DeliverySettings
from shared import apikeys
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.contracts.catalog import Case, CaseRecord, Sender
from shared.db import create_pool
from shared.kafka import delete_topics, durable_producer, encode, ensure_topics
from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def isolated_settings(folder: Path, **overrides: Any) -> DeliverySettings:
    suffix = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "port": free_port(),
        "db_schema": f"delivery_t_{suffix}",
        "actions_topic": f"test.delivery.actions.{suffix}",
        "cases_topic": f"test.delivery.cases.{suffix}",
        "dossiers_topic": f"test.delivery.dossiers.{suffix}",
        "dlq_topic": f"test.delivery.dlq.{suffix}",
        "group_id": f"plume-delivery-t-{suffix}",
        "dossier_dir": folder / "dossiers",
        "cut_check_s": 0.1,
        "send_check_s": 0.1,
        "retry_base_s": 0.2,
        "retry_cap_s": 1.0,
        "webhook_secret": "test-secret",
    }
    values.update(overrides)
    return DeliverySettings.model_validate(values)


def service_env(settings: DeliverySettings) -> dict[str, str]:
    """Environment for `plume serve delivery` as a subprocess with these settings."""
    return {**os.environ, **settings.environment()}


async def create_topics(settings: DeliverySettings, partitions: int = 4) -> None:
    specs = settings.own_topics(partitions)
    await ensure_topics(settings.kafka_bootstrap, specs)
    await wait_until(lambda: _leaderless(settings, [s.name for s in specs]), lambda n: n == 0)


async def _leaderless(settings: DeliverySettings, topics: list[str]) -> int:
    """Partitions of fresh topics without a leader yet: a client that reads metadata then
    keeps it (aiokafka, for minutes) would ignore those partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sum(
        1 for t in described for p in t["partitions"] if p["leader"] < 0 or t["error_code"]
    ) + (len(topics) - len(described))


def case(case_id: str, targets: list[dict[str, Any]], status: str = "open") -> Case:
    return Case.model_validate(
        {
            "id": case_id,
            "name": "Sonia Dahmani",
            "country": "TN",
            "status": status,
            "summary": {"fr": "Avocate tunisienne emprisonnée pour ses propos."},
            "request": {"fr": "Libérez Sonia Dahmani.", "es": "Liberen a Sonia Dahmani."},
            "targets": targets,
        }
    )


def signature(
    case_id: str, key: str, name: str | None, country: str = "FR", consent: bool = True
) -> ActionEvent:
    now = datetime.now(UTC)
    return ActionEvent(
        action_id=uuid.uuid4(),
        case_id=case_id,
        type=ActionType.SIGNATURE,
        count=1,
        channel=Channel.WEB,
        country=country,
        supporter_key=key,
        supporter_name=name if consent else None,
        share_name_with_target=consent,
        occurred_at=now,
        accepted_at=now,
        source="test",
    )


async def publish(
    settings: DeliverySettings,
    cases: list[Case],
    actions: Sequence[ActionEvent | bytes],
    sender: Sender | None = None,
) -> None:
    """Cases to the catalogue topic, then actions in order (raw bytes as they are: what
    intake could never have written)."""
    producer = durable_producer(settings.kafka_bootstrap, "test-delivery", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                settings.cases_topic,
                key=c.id.encode(),
                value=encode(
                    CaseRecord(
                        campaign_id="t", campaign_name="t", milestones=[], case=c, sender=sender
                    )
                ),
            )
            for c in cases
        ]
        futures += [
            await producer.send(settings.actions_topic, key=b"raw", value=a)
            if isinstance(a, bytes)
            else await producer.send(settings.actions_topic, key=a.kafka_key(), value=encode(a))
            for a in actions
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def new_key(settings: DeliverySettings, scopes: set[apikeys.Scope]) -> str:
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        async with pool.acquire() as conn:
            return await apikeys.create_key(conn, f"t-{uuid.uuid4().hex[:12]}", scopes, 0)
    finally:
        await pool.close()


async def stored(settings: DeliverySettings, table: str) -> int:
    """Rows in one of the service's tables (-1 before its migration ran)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        n: int = await conn.fetchval(f'SELECT count(*) FROM "{settings.db_schema}".{table}')
        return n
    except asyncpg.UndefinedTableError:
        return -1
    finally:
        await conn.close()


async def drop_topics(settings: DeliverySettings) -> None:
    """The topics create_topics made, deleted."""
    names = [t.name for t in settings.own_topics(actions_partitions=1)]
    await delete_topics(settings.kafka_bootstrap, names)


async def drop_schema(settings: DeliverySettings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
    finally:
        await conn.close()


async def start_uvicorn(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return bool(server.started)

    await wait_until(started, within=60)
    return server, task


@contextlib.asynccontextmanager
async def serving_app(
    settings: DeliverySettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The delivery service in this process (uvicorn on its own port); a client for it,
    and its app (whose `state.delivery` holds the running parts, its supervisor too)."""
    app = create_app(settings)
    server, task = await start_uvicorn(app, settings.port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as client:
            yield client, app
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def serving(settings: DeliverySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The delivery service in this process; a client for it."""
    async with serving_app(settings) as (client, _):
        yield client
