"""The canaries the supporters' data tests post (unique names and emails, to be searched
for), and what reads them back: API keys, `plume supporters export`, the actions topic."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass

import asyncpg
import orjson
from aiokafka import TopicPartition

from services.intake.settings import IntakeSettings
from shared import apikeys
from shared.contracts.actions import ActionEvent
from shared.kafka import manual_consumer
from shared.topic_health import topics_health
from tests.conftest import REPO, Stack
from tests.e2e.supporters.scanning import Scan, plume_home

ACTIONS_TOPIC = IntakeSettings.model_fields["actions_topic"].default


@dataclass(frozen=True)
class Canary:
    name: str
    email: str
    message: str

    @classmethod
    def new(cls) -> Canary:
        tag = uuid.uuid4().hex[:12]
        return cls(f"Canary{tag}", f"canary-{tag}@example.org", f"canarymessage{tag}")

    def strings(self) -> list[str]:
        return [self.name, self.email, self.message]


async def new_key(stack: Stack, *scopes: apikeys.Scope) -> str:
    conn = await asyncpg.connect(stack.database_url)
    try:
        return await apikeys.create_key(conn, f"t-{uuid.uuid4().hex[:12]}", set(scopes), 0)
    finally:
        await conn.close()


def export(email: str) -> dict[str, object]:
    """`plume supporters export EMAIL`, with the stack's secrets."""
    secrets = plume_home() / "secrets"
    env = {
        **os.environ,
        "PLUME_SUPPORTER_KEY_SECRET": (secrets / "supporter-key").read_text().strip(),
    }
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "plume"), "supporters", "export", email],
        capture_output=True,
        env=env,
        check=True,
        timeout=120,
    )
    found: dict[str, object] = orjson.loads(done.stdout)
    return found


def report(title: str, scans: list[Scan]) -> None:
    print(f"\n{title}")
    for scan in scans:
        print("  " + scan.line())


async def actions_topic_ends(stack: Stack) -> dict[TopicPartition, int]:
    """Where the actions topic ends now: the test's actions come after."""
    consumer = manual_consumer(stack.kafka_bootstrap, None, "plume-test-canaries")
    await consumer.start()
    try:
        (health,) = await topics_health(stack.kafka_bootstrap, [ACTIONS_TOPIC])
        partitions = [TopicPartition(ACTIONS_TOPIC, p) for p in range(health.partitions)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def actions_on_the_wire(
    stack: Stack, since: dict[TopicPartition, int], action_ids: set[str]
) -> list[ActionEvent]:
    """These actions as the actions topic holds them (sealed), read from `since` on."""
    consumer = manual_consumer(stack.kafka_bootstrap, None, "plume-test-canaries")
    await consumer.start()
    found: list[ActionEvent] = []
    try:
        consumer.assign(list(since))
        ends = await consumer.end_offsets(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        left = {tp for tp in since if ends[tp] > since[tp]}
        while left:
            for tp, records in (await consumer.getmany(*left, timeout_ms=1_000)).items():
                events = [ActionEvent.model_validate_json(r.value or b"{}") for r in records]
                found += [e for e in events if str(e.action_id) in action_ids]
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    return found
