"""The ports the intake's handlers are given (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.contracts.actions import ActionEvent


class PublishUnavailable(Exception):
    """Kafka did not acknowledge in time; nothing may be reported as accepted."""

    action_id: object = None  # set for a single action, so the caller can retry with it
    # set for a batch: each item's action_id (None for an item refused by validation)
    action_ids: list[str | None] | None = None


class ActionPublisher(Protocol):
    async def publish(self, events: Sequence[ActionEvent]) -> None:
        """Return only once Kafka acknowledged every event (acks=all); raise
        PublishUnavailable when that cannot happen within the publish timeout. Concurrent
        callers are written together; a failure may still leave some events written, which
        is harmless because action ids make a retry count once."""
        ...

    def available(self) -> bool:
        """False while recent writes failed: callers are answered 503 at once."""
        ...

    async def reachable(self) -> bool:
        """Whether Kafka answers right now (for readiness), within about two seconds."""
        ...
