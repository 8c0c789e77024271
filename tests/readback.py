"""Read back everything a topic holds, up to its current end: what intake acknowledged,
what a consumer set aside in the dead-letter topic."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, TopicPartition

from shared.contracts.dlq import DeadLetter
from shared.kafka import decode, manual_consumer


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
    finally:
        await producer.stop()


async def read_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every (key, value) of `topic` up to its current end, partition by partition."""
    partitions = await partitions_of(bootstrap, topic)
    consumer = manual_consumer(bootstrap, None, "test-readback")
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[tuple[bytes | None, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found.extend((r.key, r.value) for r in records if r.value is not None)
        return found
    finally:
        await consumer.stop()


async def read_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    return [decode(DeadLetter, value) for _, value in await read_records(bootstrap, topic)]
