"""Background loops of the delivery service: each a step repeated until cancelled, run
by bootstrap on the supervisor, so a slow send or render never holds up consuming or
cutting; a failing step is retried with a growing pause (shared.loops.repeat)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from services.delivery import metrics, service
from services.delivery.adapters.rendering import Renderer
from services.delivery.domain.key_retention import KeyRetention
from services.delivery.domain.policy import CutPolicy
from services.delivery.domain.ports import (
    Catalogue,
    Cutter,
    DataKeyExpiry,
    EventPublisher,
    FileRetention,
    Sender,
    TransmissionLedger,
)
from services.delivery.domain.status import StatusFigures
from shared.loops import repeat
from shared.supervisor import Work

Step = Callable[[], Awaitable[int]]
RENDER_EVERY_S = 0.2
PUBLISH_EVERY_S = 0.2
STATUSES_EVERY_S = 5.0
ERASE_EVERY_S = 1.0  # an erasure is asked for rarely; done within a second


@dataclass(frozen=True)
class Loops:
    cutter: Cutter
    catalogue: Catalogue
    policy: CutPolicy
    renderer: Renderer
    ledger: TransmissionLedger
    senders: Mapping[str, Sender]
    transmission: service.Transmission
    publisher: EventPublisher
    read_statuses: Callable[[], Awaitable[StatusFigures]]
    retention: FileRetention
    cut_every_s: float
    send_every_s: float
    files_kept_for: timedelta
    retention_every_s: float
    erase: Callable[[], Awaitable[int]] | None = None  # delivery's part of erasures
    key_expiry: DataKeyExpiry | None = None  # the supporters' data keys' retention
    key_retention: KeyRetention | None = None
    render_wake: asyncio.Event | None = None  # set by a cut: render now, not at the next tick

    def work(self, stop: asyncio.Event) -> dict[str, Work]:
        """Each loop by its task name."""
        steps: dict[str, tuple[Step, float]] = {
            "cutter": (self.cut, self.cut_every_s),
            "renderer": (self.render, RENDER_EVERY_S),
            "sender": (self.send, self.send_every_s),
            "publisher": (self.publish, PUBLISH_EVERY_S),
            "statuses": (self.count_statuses, STATUSES_EVERY_S),
            "retention": (self.expire_files, self.retention_every_s),
        }
        if self.erase is not None:
            steps["erasures"] = (self.erase, ERASE_EVERY_S)
        if self.key_expiry is not None and self.key_retention is not None:
            steps["key-retention"] = (self.expire_keys, self.retention_every_s)
        wake = {"renderer": self.render_wake}
        return {
            name: partial(repeat, name, step, every, stop, wake.get(name))
            for name, (step, every) in steps.items()
        }

    async def cut(self) -> int:
        now = service.utc_now()
        return len(await service.cut_due_cases(self.cutter, self.catalogue, self.policy, now))

    async def render(self) -> int:
        jobs = await self.renderer.unrendered()
        for job in jobs:
            await self.renderer.render(job)
        return len(jobs)

    async def send(self) -> int:
        return await service.transmit_due(self.ledger, self.senders, self.transmission)

    async def publish(self) -> int:
        return await service.publish_events(self.ledger, self.publisher)

    async def expire_files(self) -> int:
        return await service.expire_files(self.retention, self.files_kept_for, service.utc_now())

    async def expire_keys(self) -> int:
        assert self.key_expiry is not None and self.key_retention is not None
        await service.expire_data_keys(self.key_expiry, self.key_retention, service.utc_now())
        return 0  # one walk covers every key due: the next is a retention_every_s away

    async def count_statuses(self) -> int:
        metrics.export_statuses(await self.read_statuses())
        return 0
