"""EventPublisher on Kafka: dossier events keyed by dossier id (one partition keeps each
dossier's events in order), on the durable producer, every acknowledgement awaited."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.contracts.dossiers import DossierEvent
from shared.kafka import encode
from shared.sending import send_all


class KafkaEventPublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    async def publish(self, events: Sequence[DossierEvent]) -> None:
        records = [(str(event.dossier_id).encode(), encode(event)) for event in events]
        await send_all(self.producer, self.topic, records)
