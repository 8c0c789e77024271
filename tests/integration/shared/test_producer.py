"""The durable producer survives a broken idempotence sequence on the real broker: the
write that meets it fails, the next one is acknowledged under a new producer id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka import durable_producer
from shared.producer import RenewingProducer
from shared.settings import InfraSettings
from tests.integration.shared.conftest import own_topic
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
INFRA = InfraSettings()


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    async with own_topic("producer", 1) as name:
        yield name


async def test_a_sequence_gap_costs_one_write_not_the_producer(topic: str) -> None:
    producer = durable_producer(INFRA.kafka_bootstrap, "test-renewing")
    assert isinstance(producer, RenewingProducer)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before", key=b"k")
        # What an outage can leave behind: the broker expects sequence n, we are past it.
        producer._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 7)
        with pytest.raises(KafkaError):
            await producer.send_and_wait(topic, b"gap", key=b"k")

        async def generation() -> int:
            return producer.generation

        await wait_until(generation, lambda renewed: renewed == 1, within=20)
        metadata = await producer.send_and_wait(topic, b"again", key=b"k")
        assert metadata.offset >= 1
    finally:
        await producer.stop()
