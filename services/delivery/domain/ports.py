"""The delivery service's ports: what its use cases need, stated by their semantics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from services.delivery.domain.addressees import CutOrder
from services.delivery.domain.key_retention import KeyFacts, KeyRetention
from services.delivery.domain.status import DossierStatus
from shared.contracts.catalog import CaseRecord
from shared.contracts.dossiers import DossierEvent, DossierKind


@dataclass(frozen=True)
class Outgoing:
    """A rendered dossier due to be sent by email or webhook."""

    dossier_id: uuid.UUID
    case_id: str
    target_id: str
    kind: DossierKind
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
    kind: DossierKind
    status: DossierStatus
    count: int
    attempts: int
    error: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class PendingCase:
    """Items of one case and kind not yet in a dossier."""

    case_id: str
    kind: DossierKind
    count: int
    oldest: datetime


class NotFound(Exception):
    pass


class SendFailed(Exception):
    """A channel could not deliver (the dossier is retried later)."""


class TransmissionLedger(Protocol):
    """Dossier states and the events of their changes. `claim_due` returns rendered
    email/webhook dossiers that are sealed or failed and due at `now`, counts the attempt
    and defers them by `lease` so nobody else sends them meanwhile. `record_sent`,
    `record_failed` and `acknowledge` (which keeps who and their note) follow the state
    machine (TransitionRefused otherwise, NotFound for an unknown id) and each queues
    exactly one event, in the same transaction as the change. `unpublished` lists queued
    events oldest first; `mark_published` removes them from that list."""

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]: ...

    async def record_sent(self, dossier_id: uuid.UUID) -> None: ...

    async def record_failed(
        self, dossier_id: uuid.UUID, error: str, retry_at: datetime
    ) -> None: ...

    async def acknowledge(
        self, dossier_id: uuid.UUID, by: str, note: str | None
    ) -> DossierStatus: ...

    async def status_of(self, dossier_id: uuid.UUID) -> DossierStatus: ...

    async def unpublished(self, limit: int) -> list[StatusEvent]: ...

    async def mark_published(self, event_ids: list[int]) -> None: ...


class Cutter(Protocol):
    """Stores cuts. `pending` lists what waits per case and kind; `cut` seals, in one
    transaction, everything of the order's case and kind still pending into its dossiers
    and queues their `sealed` events; it returns the new dossier ids, none when nothing
    was pending after all."""

    async def pending(self) -> list[PendingCase]: ...

    async def cut(self, order: CutOrder) -> list[uuid.UUID]: ...


class Catalogue(Protocol):
    """The cases as last read from the catalogue topic; `loaded` once read to its end."""

    @property
    def loaded(self) -> asyncio.Event: ...

    @property
    def cases(self) -> Mapping[str, CaseRecord]: ...

    def get(self, case_id: str) -> CaseRecord | None: ...


class Sender(Protocol):
    """One transmission channel; raises SendFailed (or OSError) when it could not deliver."""

    async def send(self, item: Outgoing, files: dict[str, Path]) -> None: ...


class EventPublisher(Protocol):
    """Writes dossier events durably (returns once every one is acknowledged)."""

    async def publish(self, events: Sequence[DossierEvent]) -> None: ...


class FileRetention(Protocol):
    """Deletes the files of dossiers acknowledged before a moment, a bounded number per
    call (returns how many; 0 when none is due); names kept for them go with the last."""

    async def expire(self, acknowledged_before: datetime) -> int: ...


@dataclass(frozen=True)
class KeyExpiryBatch:
    examined: int  # keys unused for their retention looked at (0: the walk is over)
    destroyed: int
    last: KeyFacts | None  # where the next batch starts


class DataKeyExpiry(Protocol):
    """Looks at the next bounded batch of keys unused for their retention (in order of
    last use, past `after`) and destroys those the retention says have expired."""

    async def expire_after(
        self, retention: KeyRetention, now: datetime, after: KeyFacts | None
    ) -> KeyExpiryBatch: ...
