"""Kafka positions kept in PostgreSQL, in each consuming service's own schema, so that a
consumer commits the effect of records and the position after them in one transaction
(shared.positioned_consumer)."""

from __future__ import annotations

from typing import TypeAlias

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.db import Conn, lock_schema

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

POSITIONS_DDL = """
CREATE TABLE IF NOT EXISTS "{schema}".consumer_positions (
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
)"""


class PositionStore:
    """Positions (next offset to read) per topic partition, in a service's own schema."""

    def __init__(self, schema: str) -> None:
        self.table = f'"{schema}".consumer_positions'
        self.schema = schema

    async def create(self, conn: Conn) -> None:
        """Create the table if missing; safe when two consumers of one service start at once."""
        async with conn.transaction():
            await lock_schema(conn, self.schema)
            await conn.execute(POSITIONS_DDL.format(schema=self.schema))

    async def load(self, conn: Conn, topic: str) -> dict[int, int]:
        rows = await conn.fetch(
            f"SELECT partition, next_offset FROM {self.table} WHERE topic = $1", topic
        )
        return {r["partition"]: r["next_offset"] for r in rows}

    async def save(self, conn: Conn, positions: dict[TopicPartition, int]) -> None:
        """Record positions; the caller's transaction makes them atomic with its effect.
        GREATEST keeps a late writer (a consumer that lost the partition) from moving back."""
        await conn.executemany(
            f"INSERT INTO {self.table} (topic, partition, next_offset) VALUES ($1, $2, $3) "
            "ON CONFLICT (topic, partition) DO UPDATE SET "
            "next_offset = GREATEST(EXCLUDED.next_offset, consumer_positions.next_offset), "
            "updated_at = now()",
            [(tp.topic, tp.partition, offset) for tp, offset in positions.items()],
        )
