"""`plume topics ensure` gives topics that already exist their spec's configuration: a
changed retention of the actions topic applies without recreating it."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka import ensure_topics
from shared.settings import InfraSettings
from shared.topics import TopicSpec, with_retention
from tests.integration.shared.conftest import own_topic


async def retention_ms(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": None})
        [response] = await admin.describe_configs([resource])
    finally:
        await admin.close()
    [(_code, _message, _type, _name, entries)] = response.resources
    return str(next(entry[1] for entry in entries if entry[0] == "retention.ms"))


async def test_a_changed_retention_applies_to_the_existing_topic() -> None:
    bootstrap = InfraSettings().kafka_bootstrap
    async with own_topic("retention", partitions=2) as name:
        assert await retention_ms(bootstrap, name) == str(7 * 86_400_000)  # Kafka's default
        specs = with_retention((TopicSpec(name, partitions=2),), name, 0.5)
        assert await ensure_topics(bootstrap, specs) == []  # present: configured, not created
        assert await retention_ms(bootstrap, name) == str(43_200_000)
        assert await ensure_topics(bootstrap, specs) == []  # again: nothing changes
        assert await retention_ms(bootstrap, name) == str(43_200_000)
