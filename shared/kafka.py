"""Kafka clients configured the one way plume accepts: durable writes, explicit positions."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from pydantic import BaseModel

from shared.producer import RenewingProducer
from shared.topics import TOPICS, TopicSpec, replication_for

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    """A message's value: its JSON without the fields that are None (intake's actions are
    written so by shared/contracts/action_record.py)."""
    return model.model_dump_json(exclude_none=True).encode()


def decode(model: type[M], raw: bytes) -> M:
    return model.model_validate_json(raw)


def durable_producer(bootstrap: str, client_id: str, linger_ms: int = 2) -> AIOKafkaProducer:
    """A producer whose acknowledgement means the write is on every in-sync replica,
    written once even when it retries (aiokafka's defaults wait for the leader alone and
    do not deduplicate retries),
    and that recovers from a broken idempotence sequence (see shared.producer)."""
    return RenewingProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=5_000,
        retry_backoff_ms=100,
    )


def manual_consumer(
    bootstrap: str, group_id: str | None, client_id: str, **overrides: object
) -> AIOKafkaConsumer:
    """A consumer that never commits on its own and starts from the earliest record
    (aiokafka/faststream default to `latest`, which silently skips history)."""
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "client_id": client_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 5_000,
        "fetch_max_bytes": 16 * 1024 * 1024,
        "max_partition_fetch_bytes": 4 * 1024 * 1024,
    }
    options.update(overrides)
    return AIOKafkaConsumer(**options)


async def ensure_topics(
    bootstrap: str, specs: tuple[TopicSpec, ...] = TOPICS, replicas: int | None = None
) -> list[str]:
    """Create the missing topics of the contract and give the present ones the
    configuration of their spec (a changed retention applies); return the names created.
    Replicas: one per node listed in `bootstrap` (at most 3) unless given."""
    replicas = replicas or replication_for(bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="plume-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            await _create(admin, missing, replicas)
        present = [spec for spec in specs if spec.name in existing]
        if present:
            await _configure(admin, present, replicas)
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, topics: Collection[str]) -> None:
    """Delete those of `topics` that exist: a test's or a benchmark's own, when done with
    them (a million records left by each `make bench` fill a disk)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if doomed := [t for t in topics if t in existing]:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec], replicas: int) -> None:
    new = [
        NewTopic(s.name, s.partitions, replicas, topic_configs=s.topic_config(replicas))
        for s in specs
    ]
    try:
        _raise_topic_errors(await admin.create_topics(new))
    except TopicAlreadyExistsError:
        log.info("topics created concurrently by another process")


async def _configure(admin: AIOKafkaAdminClient, specs: list[TopicSpec], replicas: int) -> None:
    """Set each topic's whole configuration (AlterConfigs replaces a topic's dynamic
    settings with the set given), so that running it again changes nothing."""
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, s.name, configs=s.topic_config(replicas))
        for s in specs
    ]
    for response in await admin.alter_configs(resources):
        for code, message, _type, name in response.resources:
            if code:
                raise for_code(code)(f"cannot configure {name}: {message}")


def _raise_topic_errors(response: Any) -> None:
    """aiokafka returns per-topic errors instead of raising them; a topic that could not
    be created (e.g. fewer live nodes than replicas) must not pass for created."""
    for topic, code, *message in response.topic_errors:
        if code:
            error = for_code(code)
            raise error(f"cannot create {topic}: {message[0] if message else error.__name__}")
