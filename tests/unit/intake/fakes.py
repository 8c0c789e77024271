"""In-memory stand-ins: a publisher (the port the use cases use) and a producer exposing
the few calls the Kafka publisher makes, with acknowledgements the test controls."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.intake.domain.ports import PublishUnavailable
from shared.contracts.action_record import ActionRecord, record_of
from shared.contracts.actions import ActionEvent


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[ActionRecord] = []
        self.records: list[tuple[bytes, bytes]] = []  # as written, when written encoded
        self.down = False
        self.refused = 0

    async def publish(self, events: Sequence[ActionRecord]) -> None:
        if self.down:
            self.refused += 1
            raise PublishUnavailable("fake Kafka is down")
        self.events.extend(events)

    async def write(self, records: list[tuple[bytes, bytes]]) -> None:
        """Records as the Kafka publisher writes them, read back as consumers read them."""
        await self.publish([record_of(ActionEvent.model_validate_json(v)) for _, v in records])
        self.records.extend(records)

    def available(self) -> bool:
        return not self.down


@dataclass
class FakeBuilder:
    capacity: int
    records: list[tuple[bytes, bytes]] = field(default_factory=list)

    def append(self, *, key: bytes, value: bytes, timestamp: int | None) -> object | None:
        if len(self.records) >= self.capacity:
            return None
        self.records.append((key, value))
        return object()


@dataclass
class SentBatch:
    partition: int
    builder: FakeBuilder
    ack: asyncio.Future[None]


class FakeProducer:
    def __init__(self, partitions: int = 3, batch_capacity: int = 1_000) -> None:
        self.partitions = set(range(partitions))
        self.capacity = batch_capacity
        self.sent: list[SentBatch] = []
        self.auto_ack = True
        self.sent_event = asyncio.Event()

    async def partitions_for(self, topic: str) -> set[int]:
        return self.partitions

    def create_batch(self) -> FakeBuilder:
        return FakeBuilder(self.capacity)

    async def send_batch(
        self, batch: FakeBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[None]:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.auto_ack:
            ack.set_result(None)
        self.sent.append(SentBatch(partition, batch, ack))
        self.sent_event.set()
        return ack
