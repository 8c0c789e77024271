"""Value of `plume.actions.dlq.v1` (keyed by the original record's key): a record that a
consumer could not process, with where it came from and why."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    consumer: str = Field(description="consumer group that gave up on the record")
    topic: str
    partition: int
    offset: int
    error: str = Field(description="why the record could not be processed")
    value_base64: str | None = Field(description="the original value, byte for byte")
    failed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def of(
        cls, consumer: str, topic: str, partition: int, offset: int, value: bytes | None, error: str
    ) -> DeadLetter:
        encoded = base64.b64encode(value).decode() if value is not None else None
        return cls(
            consumer=consumer,
            topic=topic,
            partition=partition,
            offset=offset,
            error=error[:2_000],
            value_base64=encoded,
        )
