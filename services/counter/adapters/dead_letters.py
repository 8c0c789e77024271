"""Poison records go to the dead-letter topic, acknowledged before the batch commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.contracts.dlq import DeadLetter
from shared.kafka import encode
from shared.positions import Record


class DeadLettersUnavailable(ConnectionError):
    """Kafka did not take the dead letters: a transient I/O failure, so the batch is
    retried (PositionedConsumer retries on OSError) instead of stopping the consumer."""


class KafkaDeadLetters:
    def __init__(self, producer: AIOKafkaProducer, topic: str, consumer: str) -> None:
        self.producer = producer
        self.topic = topic
        self.consumer = consumer

    async def send(self, poison: Sequence[tuple[Record, str]]) -> None:
        """Returns once Kafka acknowledged every dead letter (acks=all); raises otherwise,
        which fails the batch so that nothing is committed and it is retried."""
        futures = []
        try:
            for record, error in poison:
                letter = DeadLetter.of(
                    self.consumer,
                    record.topic,
                    record.partition,
                    record.offset,
                    record.value,
                    error,
                )
                # send() only enqueues; awaiting the futures together waits for one batch.
                futures.append(await self.producer.send(self.topic, encode(letter), key=record.key))
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise DeadLettersUnavailable(type(exc).__name__) from exc
