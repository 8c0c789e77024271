"""Load for the counter benchmarks: isolated topics and schema, fast pre-encoded actions,
a `plume serve counter` process, and the naive one-UPDATE-per-action baseline."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.intake_procs import cpu_seconds
from services.counter.settings import CounterSettings
from shared import sealing
from shared.action_ids import new_action_id
from shared.contracts.actions import ActionEvent
from shared.kafka import decode, durable_producer, ensure_topics, manual_consumer
from tests.serving import REPO, serve_command

PARTITIONS = 12  # as plume.actions.v1
CASES = [f"bench-case-{i}" for i in range(8)]
TYPES = ["signature", "letter", "email", "tweet", "postcard"]
COUNTRIES = ["FR", "SN", "DE", "BR", "ZZ"]
Record = tuple[bytes, bytes]
Sealer = Callable[[UUID], str]  # an action's sealed personal fields


def isolated_settings() -> CounterSettings:
    suffix = uuid.uuid4().hex[:8]
    return CounterSettings.model_validate(
        {
            "db_schema": f"counter_bench_{suffix}",
            "group_id": f"plume-counter-bench-{suffix}",
            "actions_topic": f"bench.counter.actions.{suffix}",
            "totals_topic": f"bench.counter.totals.{suffix}",
            "milestones_topic": f"bench.counter.milestones.{suffix}",
            "dlq_topic": f"bench.counter.dlq.{suffix}",
        }
    )


async def create_topics(settings: CounterSettings) -> None:
    await ensure_topics(settings.kafka_bootstrap, settings.own_topics(PARTITIONS))


def raw_action(i: int, case_id: str, accepted_at: str, sealer: Sealer | None = None) -> Record:
    """(key, value) of one action, encoded without pydantic so that pre-filling is quick;
    `check_encoding` proves the counter decodes it. Its id is one intake would assign.
    With a `sealer`, every action is a supporter's who shares their name, as intake writes
    it: the name sealed, the supporter's id the data key's."""
    action_id = new_action_id()
    kind = TYPES[i % len(TYPES)]
    key = f"bench-supporter-{i}" if kind == "signature" else str(action_id)
    supporter = f',"supporter_key":"{key}"' if kind == "signature" else ""
    if sealer is not None:
        key = f"{i:032x}"  # a data key's id: 32 hex digits
        supporter = (
            f',"supporter_key":"{key}","share_name_with_target":true,"sealed":"{sealer(action_id)}"'
        )
    value = (
        f'{{"schema_version":1,"action_id":"{action_id}","case_id":"{case_id}",'
        f'"type":"{kind}","count":1,"channel":"web","country":"{COUNTRIES[i % 5]}"{supporter},'
        f'"occurred_at":"{accepted_at}","accepted_at":"{accepted_at}","source":"bench"}}'
    )
    return key.encode(), value.encode()


def name_sealer() -> Sealer:
    """Seals a supporter's name for an action, as intake does (one data key for the bench:
    the counter never opens what is sealed, it carries it)."""
    data_key, name = sealing.new_data_key(), sealing.PersonalFields(name="Awa Diallo")
    return lambda action_id: sealing.seal(data_key, action_id, name)


async def from_the_beginning(settings: CounterSettings, client_id: str) -> AIOKafkaConsumer:
    """A started consumer of every partition of the actions topic, at its first record
    (no group: the floors read the records the counter counts)."""
    consumer = manual_consumer(settings.kafka_bootstrap, None, client_id)
    await consumer.start()
    partitions = [TopicPartition(settings.actions_topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer


def check_encoding() -> None:
    for i in range(len(TYPES)):
        decode(ActionEvent, raw_action(i, CASES[0], now_iso())[1])
        decode(ActionEvent, raw_action(i, CASES[0], now_iso(), name_sealer())[1])


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def prefill(settings: CounterSettings, n: int, sealer: Sealer | None = None) -> None:
    producer = durable_producer(settings.kafka_bootstrap, "counter-bench", linger_ms=20)
    await producer.start()
    try:
        stamp = now_iso()
        for start in range(0, n, 20_000):
            futures = []
            for i in range(start, min(n, start + 20_000)):
                key, value = raw_action(i, CASES[i % len(CASES)], stamp, sealer)
                futures.append(await producer.send(settings.actions_topic, value, key=key))
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def send_tick(
    producer: AIOKafkaProducer, topic: str, case_id: str, first: int, n: int
) -> float:
    """Send n actions stamped now; return the monotonic time Kafka acknowledged them all."""
    stamp = now_iso()
    futures = []
    for i in range(first, first + n):
        key, value = raw_action(i, case_id, stamp)
        futures.append(await producer.send(topic, value, key=key))
    await asyncio.gather(*futures)
    return time.monotonic()


def start_counter(settings: CounterSettings, port: int, log: Path) -> subprocess.Popen[bytes]:
    quiet = settings.model_copy(update={"port": port, "log_level": "WARNING"})
    env = {**os.environ, **quiet.environment()}
    return subprocess.Popen(
        serve_command("counter"), cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def committed(conn: asyncpg.Connection, schema: str) -> int:
    try:
        value = await conn.fetchval(f'SELECT sum(next_offset) FROM "{schema}".consumer_positions')
    except asyncpg.UndefinedTableError:
        return 0
    return int(value or 0)


class Drained(NamedTuple):
    rate: float  # actions/s
    cpu_us: float  # the counters' CPU µs per action: steadier than the rate on a busy machine


async def drain(settings: CounterSettings, processes: int, n: int, log: Path) -> Drained:
    """Start counter processes on a pre-filled topic; actions/s and their CPU per action
    from the first committed batch to the last, after checking that the totals are exact."""
    counters = [start_counter(settings, free_port(), log) for _ in range(processes)]
    conn = await asyncpg.connect(settings.database_url)
    try:
        first, started, cpu_at_first = 0, 0.0, 0.0
        deadline = time.monotonic() + 600
        while (done := await committed(conn, settings.db_schema)) < n:
            if not first and done:
                first, started, cpu_at_first = done, time.monotonic(), cpu_of(counters)
            if time.monotonic() > deadline or any(c.poll() is not None for c in counters):
                raise RuntimeError(f"counters did not drain the topic ({done}/{n})")
            await asyncio.sleep(0.02)
        counted_after_first = max(n - first, 1)  # all in the first batch: a useless figure
        rate = counted_after_first / (time.monotonic() - started)
        cpu_us = 1e6 * (cpu_of(counters) - cpu_at_first) / counted_after_first
        counted = await conn.fetchval(f'SELECT sum(total) FROM "{settings.db_schema}".case_totals')
        if counted != n:
            raise RuntimeError(f"counted {counted} of {n}: totals are wrong")
        return Drained(rate, cpu_us)
    finally:
        for counter in counters:
            counter.terminate()
            counter.wait(timeout=30)
        await conn.close()


def cpu_of(counters: list[subprocess.Popen[bytes]]) -> float:
    return sum(cpu_seconds(counter.pid) for counter in counters)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
