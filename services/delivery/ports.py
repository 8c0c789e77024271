"""The delivery service's ports: what its handlers need, stated by their semantics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.delivery.domain.status import DossierStatus


@dataclass(frozen=True)
class Outgoing:
    """A rendered dossier due to be sent by email or webhook."""

    dossier_id: uuid.UUID
    case_id: str
    target_id: str
    kind: str
    channel: str
    destination: str
    attempts: int
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusEvent:
    event_id: int
    dossier_id: uuid.UUID
    case_id: str
    target_id: str
    kind: str
    status: DossierStatus
    count: int
    attempts: int
    error: str | None
    occurred_at: datetime


class NotFound(Exception):
    pass


class TransmissionLedger(Protocol):
    """Dossier states and the events of their changes. `claim_due` returns rendered
    email/webhook dossiers that are sealed or failed and due at `now`, counts the attempt
    and defers them by `lease` so nobody else sends them meanwhile. `record_sent`,
    `record_failed` and `acknowledge` follow the state machine (TransitionRefused
    otherwise, NotFound for an unknown id) and each queues exactly one event, in the same
    transaction as the change. `unpublished` lists queued events oldest first;
    `mark_published` removes them from that list."""

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]: ...

    async def record_sent(self, dossier_id: uuid.UUID) -> None: ...

    async def record_failed(
        self, dossier_id: uuid.UUID, error: str, retry_at: datetime
    ) -> None: ...

    async def acknowledge(self, dossier_id: uuid.UUID) -> DossierStatus: ...

    async def status_of(self, dossier_id: uuid.UUID) -> DossierStatus: ...

    async def unpublished(self, limit: int) -> list[StatusEvent]: ...

    async def mark_published(self, event_ids: list[int]) -> None: ...


JsonDict = dict[str, Any]
