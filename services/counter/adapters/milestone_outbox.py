"""Publishes reached milestones from their outbox rows (written in the counting
transaction). Before publishing, it reads the milestones topic to its end and skips the
events already there, so a crash between publishing and marking does not duplicate."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from services.counter import metrics
from shared.contracts.totals import MilestoneReached
from shared.kafka import decode, encode
from shared.loops import repeat
from shared.sending import send_all

log = logging.getLogger(__name__)


class MilestoneOutbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        producer: AIOKafkaProducer,
        reader: AIOKafkaConsumer,
        topic: str,
    ) -> None:
        self.pool = pool
        self.table = f'"{schema}".milestones_reached'
        self.producer = producer
        self.reader = reader  # a started consumer without group, used to read the topic
        self.topic = topic
        self.published: set[str] = set()
        self.poke = asyncio.Event()

    async def publish_pending(self) -> int:
        """Publish the unpublished announcements; rows are locked (SKIP LOCKED) so that two
        counter processes never publish the same one at the same time."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT * FROM {self.table} WHERE published_at IS NULL "
                "ORDER BY reached_at LIMIT 100 FOR UPDATE SKIP LOCKED"
            )
            if not rows:
                return 0
            await self._read_published()
            events = [_event_of(row) for row in rows]
            unpublished = [
                (e.case_id.encode(), encode(e))
                for e in events
                if str(e.event_id) not in self.published
            ]
            await send_all(self.producer, self.topic, unpublished)
            metrics.MILESTONES.inc(len(unpublished))
            await conn.execute(
                f"UPDATE {self.table} SET published_at = now() WHERE event_id = ANY($1::uuid[])",
                [e.event_id for e in events],
            )
            return len(unpublished)

    async def _read_published(self) -> None:
        partitions = [
            TopicPartition(self.topic, p)
            for p in sorted(self.reader.partitions_for_topic(self.topic) or {0})
        ]
        if set(partitions) != self.reader.assignment():
            self.reader.assign(partitions)
            await self.reader.seek_to_beginning(*partitions)
        end = await self.reader.end_offsets(partitions)
        while not await self._reached(end):
            batches = await self.reader.getmany(*partitions, timeout_ms=200)
            for records in batches.values():
                for record in records:
                    self._remember(record.value)

    async def _reached(self, end: dict[TopicPartition, int]) -> bool:
        for tp, offset in end.items():
            if await self.reader.position(tp) < offset:
                return False
        return True

    def _remember(self, value: bytes | None) -> None:
        try:
            self.published.add(str(decode(MilestoneReached, value or b"").event_id))
        except ValidationError:
            log.warning("foreign record on the milestones topic ignored")

    async def follow(self, interval: float, stop: asyncio.Event) -> None:
        """Publish when poked (a milestone was reached) or every `interval` (leftovers)."""

        async def publish() -> int:
            await self.publish_pending()
            return 0

        await repeat("milestones", publish, interval, stop, wake=self.poke)


def _event_of(row: asyncpg.Record) -> MilestoneReached:
    return MilestoneReached(
        event_id=row["event_id"],
        campaign_id=row["campaign_id"],
        case_id=row["case_id"],
        milestone=row["milestone"],
        total=row["total"],
        reached_at=row["reached_at"],
    )
