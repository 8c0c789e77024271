"""An idempotent, acks=all producer that outlives a broken sequence.

aiokafka's idempotent producer stops for good when the broker refuses a sequence number
(OutOfOrderSequenceNumber, seen here after Kafka was stopped under load and restarted:
the broker's last sequence and the client's no longer meet). aiokafka fails the batch and
keeps the gap, so every later write to that partition fails the same way until the
service restarts. This producer, when a write fails so, replaces its whole client with a
fresh one (a new producer id, sequences from zero): the writes in hand fail as they
should, and the ones after go through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced

log = logging.getLogger(__name__)

# Errors after which aiokafka's sender task has ended and the producer cannot send again.
PRODUCER_DEAD = (OutOfOrderSequenceNumber, ProducerFenced)


class RenewingProducer(AIOKafkaProducer):  # type: ignore[misc]
    def __init__(self, **options: Any) -> None:
        self._options = options
        self._generation = 0
        self._renewing = asyncio.Lock()
        self._renewal: asyncio.Task[None] | None = None
        super().__init__(**options)

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        generation = self._generation
        try:
            return self._watch(await super().send(*args, **kwargs), generation)
        except PRODUCER_DEAD:
            await self._renew(generation)
            raise

    async def send_batch(self, *args: Any, **kwargs: Any) -> Any:
        generation = self._generation
        try:
            return self._watch(await super().send_batch(*args, **kwargs), generation)
        except PRODUCER_DEAD:
            await self._renew(generation)
            raise

    def _watch(self, future: asyncio.Future[Any], generation: int) -> asyncio.Future[Any]:
        """Renew as soon as the broker refuses this write's sequence."""

        def check(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and isinstance(done.exception(), PRODUCER_DEAD):
                self._renewal = asyncio.ensure_future(self._renew(generation))

        future.add_done_callback(check)
        return future

    @property
    def generation(self) -> int:
        """How many times the client was replaced; for tests and metrics."""
        return self._generation

    async def _renew(self, failed_generation: int) -> None:
        async with self._renewing:
            if failed_generation != self._generation:
                return  # a concurrent sender already renewed it
            log.warning("Kafka producer sequence broken; starting a new producer id")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(super().stop(), 10)
            # Re-running the constructor swaps in a new client, accumulator and sender
            # while every holder of this object keeps its reference.
            super().__init__(**self._options)
            await super().start()
            self._generation += 1
