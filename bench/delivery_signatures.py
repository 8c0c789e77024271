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

from services.delivery.settings import DeliverySettings
from shared.action_ids import new_action_id
from shared.contracts.actions import ActionEvent, ActionType, Channel
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


async def produce(settings: DeliverySettings, n: int) -> list[str]:
    cases = [f"bench-{i}" for i in range(CASES)]
    now = datetime.now(UTC)
    producer = durable_producer(settings.kafka_bootstrap, "bench-delivery", linger_ms=20)
    await producer.start()
    try:
        for start in range(0, n, 20_000):
            futures = []
            for i in range(start, min(n, start + 20_000)):
                event = ActionEvent(
                    action_id=new_action_id(),  # as intake assigns them
                    case_id=cases[i % CASES],
                    type=ActionType.SIGNATURE,
                    count=1,
                    channel=Channel.WEB,
                    country="FR",
                    supporter_key=f"s{i}",
                    supporter_name=name_of(i),
                    share_name_with_target=True,
                    occurred_at=now,
                    accepted_at=now,
                    source="bench",
                )
                futures.append(
                    await producer.send(
                        settings.actions_topic, key=event.kafka_key(), value=encode(event)
                    )
                )
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return cases


def bench_settings(folder: Path, **overrides: Any) -> DeliverySettings:
    """A delivery of its own, with a master key of its own: the bench's actions carry
    nothing sealed, and `make bench` runs outside the stack's environment (without one,
    the process refuses to start)."""
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    return isolated_settings(folder, supporter_master_key=master, **overrides)
