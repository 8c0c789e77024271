"""Records a consumer sets aside go to the dead-letter topic (`plume.actions.dlq.v1`),
keyed like the original, acknowledged by Kafka (acks=all) before the consumer's position
moves past them. `plume_<service>_dead_letters_total` counts the letters written."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from prometheus_client import Counter

from shared.contracts.dlq import DeadLetter
from shared.kafka import encode
from shared.positions import Record

_WRITTEN: dict[str, Counter] = {}


class DeadLettersUnavailable(ConnectionError):
    """Kafka did not take the dead letters: a transient failure, so the batch is retried
    instead of moving on without them."""


class KafkaDeadLetters:
    def __init__(self, producer: AIOKafkaProducer, topic: str, consumer: str, service: str) -> None:
        self.producer = producer
        self.topic = topic
        self.consumer = consumer  # the consumer group, named in each letter
        self.written = written_counter(service)

    async def send(self, refused: Sequence[tuple[Record, str]]) -> None:
        """Returns once Kafka acknowledged every dead letter (acks=all); raises
        DeadLettersUnavailable otherwise, which fails the batch so that nothing is
        committed and it is tried again."""
        try:
            futures = [await self._send(record, error) for record, error in refused]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise DeadLettersUnavailable(type(exc).__name__) from exc
        self.written.inc(len(refused))

    async def _send(self, record: Record, error: str) -> asyncio.Future[object]:
        """send() only enqueues; the caller awaits the futures together (one batch)."""
        letter = DeadLetter.of(
            self.consumer, record.topic, record.partition, record.offset, record.value, error
        )
        try:
            future: asyncio.Future[object] = await self.producer.send(
                self.topic, encode(letter), key=record.key
            )
        except MessageSizeTooLargeError:  # a copy in base64 is a third larger than the original
            bare = letter.model_copy(
                update={"value_base64": None, "error": f"{error} (value too large to copy)"}
            )
            future = await self.producer.send(self.topic, encode(bare), key=record.key)
        return future


def written_counter(service: str) -> Counter:
    """One counter per service and process: a service may build its consumer twice."""
    if service not in _WRITTEN:
        _WRITTEN[service] = Counter(
            f"plume_{service}_dead_letters_total",
            "Records set aside in the dead-letter topic (each with its error)",
        )
    return _WRITTEN[service]
