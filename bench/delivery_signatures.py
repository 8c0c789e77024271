"""The signatures of the delivery benchmarks: their names (one in ten in another script),
their cases and target, written to a topic as intake writes them; and the settings of a
delivery of the bench's own."""

from __future__ import annotations

import asyncio
import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.delivery.settings import DeliverySettings
from shared import sealing
from shared.action_ids import new_action_id
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.data_keys import DataKey, PgDataKeyStore, prepare
from shared.db import create_pool
from shared.kafka import durable_producer, encode
from tests.integration.delivery.helpers import isolated_settings

CASES = 10
TARGET = {"id": "authority", "name": "Ministry of Justice", "country": "TN", "language": "en"}
# Mostly Latin names, one in ten in another script, as a worldwide campaign gets them.
OTHER_SCRIPTS = [
    "Иван Петров",
    "Γιώργος Π.",
    "محمد أحمد",
    "王小明",
    "田中太郎",
    "김민수",
    "राम शर्मा",
    "שרה כהן",
    "Nguyễn Văn An",
    "Zoë Ångström",
]


def name_of(i: int) -> str:
    return f"{OTHER_SCRIPTS[i % 100 // 10]} {i}" if i % 100 < 10 else f"Supporter Number {i}"


async def produce(settings: DeliverySettings, n: int, sealed: bool = False) -> list[str]:
    """`n` signatures, each of its own supporter with the name in clear; or `sealed`, as
    intake writes them since issue 14: each supporter signing every case (a tenth as many
    supporters, each with a data key of their own) and their name sealed with it."""
    cases = [f"bench-{i}" for i in range(CASES)]
    keys = await data_keys(settings, -(-n // CASES)) if sealed else []
    now = datetime.now(UTC)
    producer = durable_producer(settings.kafka_bootstrap, "bench-delivery", linger_ms=20)
    await producer.start()
    try:
        for start in range(0, n, 20_000):
            futures = []
            for i in range(start, min(n, start + 20_000)):
                event = _signature(i, cases[i % CASES], now, keys[i // CASES] if sealed else None)
                futures.append(
                    await producer.send(
                        settings.actions_topic, key=event.kafka_key(), value=encode(event)
                    )
                )
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return cases


def _signature(i: int, case_id: str, now: datetime, key: DataKey | None) -> ActionEvent:
    action_id = new_action_id()  # as intake assigns them
    name = name_of(i)
    return ActionEvent(
        action_id=action_id,
        case_id=case_id,
        type=ActionType.SIGNATURE,
        count=1,
        channel=Channel.WEB,
        country="FR",
        supporter_key=key.key_id if key else f"s{i}",
        supporter_name=None if key else name,
        sealed=sealing.seal(key.secret, action_id, sealing.PersonalFields(name)) if key else None,
        share_name_with_target=True,
        occurred_at=now,
        accepted_at=now,
        source="bench",
    )


async def data_keys(settings: DeliverySettings, supporters: int) -> list[DataKey]:
    """A data key made for each of `supporters` new supporters, as intake makes them."""
    prefix = _lookup_prefix(settings)
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        await prepare(pool)
        store = PgDataKeyStore(pool, settings.master_key())
        keys: list[DataKey] = []
        for start in range(0, supporters, 5_000):
            lookups = [f"{prefix}{j}" for j in range(start, min(supporters, start + 5_000))]
            made = await store.for_supporters(lookups)
            keys.extend(made[lookup] for lookup in lookups)
        return keys
    finally:
        await pool.close()


async def drop_data_keys(settings: DeliverySettings) -> None:
    """The data keys `data_keys` made for this bench's supporters, deleted (no other's)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(
            "DELETE FROM supporters.data_keys WHERE starts_with(lookup, $1)",
            _lookup_prefix(settings),
        )
    finally:
        await conn.close()


def _lookup_prefix(settings: DeliverySettings) -> str:
    # Real lookups are keyed hashes in hex: none starts so.
    return f"bench-{settings.db_schema}-"


def bench_settings(folder: Path, **overrides: Any) -> DeliverySettings:
    """A delivery of its own, with a master key of its own: the bench's actions carry
    nothing sealed, and `make bench` runs outside the stack's environment (without one,
    the process refuses to start)."""
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    return isolated_settings(folder, supporter_master_key=master, **overrides)
