"""`plume supporters export EMAIL` and `plume supporters erase EMAIL` (README, "Supporters'
data"). Both need the intake's supporter-key secret (PLUME_SUPPORTER_KEY_SECRET, to find
the supporter from the email) and the export the master key (to open what was sealed).
The export reads every service's schema and the actions topic; the erasure destroys the
data key, keeps the receipt, and waits (up to `--wait` seconds) for the services' part."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import TopicPartition

from services.counter.adapters import supporter_data as counter_data
from services.counter.settings import CounterSettings
from services.delivery.adapters import supporter_data as delivery_data
from services.delivery.settings import DeliverySettings
from services.intake.domain.supporter_key import supporter_key
from services.intake.settings import IntakeSettings
from shared import data_keys, erasures, sealing
from shared.contracts.actions import ActionEvent
from shared.kafka import manual_consumer
from shared.settings import InfraSettings
from shared.topic_health import topics_health

POLL_EVERY_S = 0.2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("supporters", help="a supporter's data: export, erase")
    actions = parser.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="print, as JSON, everything held about an email")
    export.add_argument("email")
    export.set_defaults(handler=_export)
    erase = actions.add_parser("erase", help="erase a supporter's personal data everywhere")
    erase.add_argument("email")
    erase.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the receipt")
    erase.set_defaults(handler=_erase)


def _export(args: argparse.Namespace, infra: InfraSettings) -> int:
    intake = IntakeSettings()
    lookup = supporter_key(intake.supporter_key_secret.get_secret_value().encode(), args.email)
    held = asyncio.run(_held_about(infra, intake.master_key(), lookup))
    print(json.dumps(held, indent=2, default=str, ensure_ascii=False))
    return 0


async def _held_about(infra: InfraSettings, master: bytes, lookup: str) -> dict[str, Any]:
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        await data_keys.prepare(pool)
        store = data_keys.PgDataKeyStore(pool, master)
        key, use = await store.find(lookup), await store.recorded_use(lookup)
        subjects = [lookup] + ([key.key_id] if key else [])
        async with pool.acquire() as conn:
            counter = await counter_data.held_about(conn, CounterSettings().db_schema, subjects)
            delivery = await delivery_data.held_about(conn, DeliverySettings().db_schema, subjects)
    finally:
        await pool.close()
    actions = await _actions_of(infra, key) if key else []
    return {
        "data_key": "held" if key else "none (never acted, erased, or expired)",
        "data_key_use": use,  # made, last used, consent to contact since (README, Retention)
        "actions": actions,
        "counter": counter,
        "delivery": delivery,
    }


async def _actions_of(infra: InfraSettings, key: data_keys.DataKey) -> list[dict[str, Any]]:
    """The supporter's actions in the actions topic (its key is their id), opened. Reads
    the whole topic once, up to its end when the export began."""
    topic = IntakeSettings.model_fields["actions_topic"].default
    consumer = manual_consumer(infra.kafka_bootstrap, None, "plume-cli-export")
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        (health,) = await topics_health(infra.kafka_bootstrap, [topic])
        partitions = [TopicPartition(topic, p) for p in range(health.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        left = {tp for tp in partitions if ends[tp] > 0}
        while left:
            for tp, records in (await consumer.getmany(*left, timeout_ms=1_000)).items():
                found += [_opened(r.value, key) for r in records if r.key == key.key_id.encode()]
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    return found


def _opened(value: bytes | None, key: data_keys.DataKey) -> dict[str, Any]:
    event = ActionEvent.model_validate_json(value or b"{}")
    shown = event.model_dump(mode="json", exclude={"sealed", "supporter_key"})
    if event.sealed:
        fields = sealing.open_sealed(key.secret, event.action_id, event.sealed)
        shown |= {"supporter_name": fields.name, "supporter_email": fields.email}
        shown |= {"message": fields.message}
    return shown


def _erase(args: argparse.Namespace, infra: InfraSettings) -> int:
    intake = IntakeSettings()
    lookup = supporter_key(intake.supporter_key_secret.get_secret_value().encode(), args.email)
    receipt = asyncio.run(_erase_and_wait(infra, intake.master_key(), lookup, args.wait))
    print(json.dumps(receipt, indent=2))
    return 0 if receipt.get("completed_at") else 1


async def _erase_and_wait(
    infra: InfraSettings, master: bytes, lookup: str, wait_s: float
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        await data_keys.prepare(pool)
        store = data_keys.PgDataKeyStore(pool, master)
        receipt_id = await erasures.request_erasure(pool, store, lookup, "cli")
        print(
            f"receipt {receipt_id}: data key destroyed; waiting for the services", file=sys.stderr
        )
        return await _receipt_when_done(pool, receipt_id, wait_s)
    finally:
        await pool.close()


async def _receipt_when_done(
    pool: asyncpg.Pool, receipt_id: uuid.UUID, wait_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        async with pool.acquire() as conn:
            receipt = await erasures.receipt(conn, receipt_id)
        assert receipt is not None
        if receipt["completed_at"] or time.monotonic() >= deadline:
            return receipt
        await asyncio.sleep(POLL_EVERY_S)
