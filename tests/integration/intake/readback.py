"""Read back everything a topic holds, to compare with what intake acknowledged."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, TopicPartition

from shared.contracts.actions import ActionEvent
from shared.kafka import decode, manual_consumer


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
    finally:
        await producer.stop()


async def read_actions(bootstrap: str, topic: str) -> list[tuple[bytes, ActionEvent]]:
    """Every (key, event) of `topic` up to its current end."""
    partitions = await partitions_of(bootstrap, topic)
    consumer = manual_consumer(bootstrap, None, "test-readback")
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[tuple[bytes, ActionEvent]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found.extend((r.key, decode(ActionEvent, r.value)) for r in records)
        return found
    finally:
        await consumer.stop()
