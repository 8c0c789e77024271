"""Send a batch of records and wait for every acknowledgement: `send()` only enqueues, so
the futures are gathered together (awaiting each `send_and_wait` in turn would cost a
round trip per record, and many concurrent waiters wake up quadratically)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

Record = tuple[bytes | None, bytes]  # (key, value)


async def send_all(
    producer: AIOKafkaProducer, topic: str, records: Iterable[Record]
) -> list[RecordMetadata]:
    """Write `records` to `topic` (keys choose partitions) and return once the broker
    acknowledged every one; the first failure is raised after all have settled."""
    futures = [await producer.send(topic, value=value, key=key) for key, value in records]
    if not futures:
        return []
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result for result in results if isinstance(result, RecordMetadata)]
