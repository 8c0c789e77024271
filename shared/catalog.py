"""The case catalogue as every service sees it: the compacted `plume.cases.v1` topic,
read from its beginning and followed, so a case loaded or closed reaches every service
within a poll interval, without a restart.

Raw aiokafka, not a faststream subscriber (tried with faststream 0.7.8 against the stack's
Kafka): `loaded` needs the end offsets and the consumer's position, which a faststream
subscriber does not expose (an empty topic never calls the handler, so "reached the end"
cannot be told from messages); a tombstone reaches the handler as `b""`, like an empty
value; and its consume loop logs a KafkaError and retries every 5 s forever
(`faststream/kafka/subscriber/usecase.py`, `_run_consume_loop`), so a follower that lost
Kafka would never raise to the supervisor and `/readyz` would not see it."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from shared.contracts.catalog import CampaignFile, CaseRecord, case_records
from shared.kafka import decode, encode, manual_consumer
from shared.sending import send_all
from shared.topics import CASES, spec_of

log = logging.getLogger(__name__)


class CatalogView:
    """Latest `CaseRecord` per case id, kept up to date by `follow()`."""

    def __init__(self, topic: str = CASES) -> None:
        self.topic = topic
        self.cases: dict[str, CaseRecord] = {}
        self.loaded = asyncio.Event()
        self.version = 0  # bumps on every change; lets readers cache derived views

    def get(self, case_id: str) -> CaseRecord | None:
        return self.cases.get(case_id)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        case_id = key.decode()
        if value is None:  # tombstone: the case was removed
            self.cases.pop(case_id, None)
        else:
            try:
                self.cases[case_id] = decode(CaseRecord, value)
            except ValidationError:
                log.error("undecodable case record skipped", extra={"case_id": case_id})
                return
        self.version += 1

    async def follow(self, bootstrap: str, stop: asyncio.Event) -> None:
        consumer = manual_consumer(bootstrap, None, "plume-catalog")
        await consumer.start()
        try:
            await self._catch_up(consumer)
            while not stop.is_set():
                await self._poll(consumer, timeout_ms=500)
        finally:
            await consumer.stop()

    async def _catch_up(self, consumer: AIOKafkaConsumer) -> None:
        partitions = [TopicPartition(self.topic, p) for p in range(spec_of(CASES).partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        while not await _reached(consumer, end):
            await self._poll(consumer, timeout_ms=200)
        self.loaded.set()
        log.info("catalogue loaded", extra={"cases": len(self.cases)})

    async def _poll(self, consumer: AIOKafkaConsumer, timeout_ms: int) -> None:
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        for records in batches.values():
            for record in records:
                self.apply(record.key, record.value)


async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await consumer.position(tp) < offset:
            return False
    return True


async def publish_campaign(
    producer: AIOKafkaProducer, campaign: CampaignFile, topic: str = CASES
) -> int:
    """Publish every case of the campaign; returns how many records were acknowledged.

    On the caller's `shared.kafka.durable_producer`, not faststream's publisher:
    faststream's KafkaBroker builds a plain AIOKafkaProducer itself
    (`faststream/kafka/configs/broker.py`), so the recovery from a broken idempotence
    sequence (`shared.producer.RenewingProducer`) would be lost, and its `publish_batch`
    writes a whole batch to one partition instead of partitioning by key. Publishing
    record by record through it is not faster either: 0.69-1.11x send_all's rate over
    five runs (`python -m bench faststream`, README "Kafka clients")."""
    records = [(record.case.id.encode(), encode(record)) for record in case_records(campaign)]
    return len(await send_all(producer, topic, records))
