"""A Kafka topic of the test's own, made and deleted around it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.settings import InfraSettings


@asynccontextmanager
async def own_topic(
    prefix: str, partitions: int = 1, config: dict[str, str] | None = None
) -> AsyncIterator[str]:
    name = f"test.{prefix}.{uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=InfraSettings().kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config or {})])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()
