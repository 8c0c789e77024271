"""Data-key look-ups gathered across concurrent requests: while one PostgreSQL round trip
is in flight, the look-ups of the requests that arrive meanwhile wait for the next, which
asks for them all at once.

At a campaign peak most supporters are new, so most single actions need a key made, and
one round trip (and one pooled connection, reset after use) per request was the largest
cost of a single POST in intake's profile (py-spy, the bench's load: ~17 % of the samples,
and the rate bound by the pool). Gathered, a round trip serves every request waiting for
one. Each caller still gets the keys of its own look-ups, or the error of the round trip
that asked for them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from shared.data_keys import DataKey


class DataKeyLookups(Protocol):
    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]: ...


@dataclass
class _Asked:
    lookups: Collection[str]
    contact: Collection[str]
    answer: asyncio.Future[dict[str, DataKey]]


class GatheredDataKeys:
    def __init__(self, store: DataKeyLookups) -> None:
        self.store = store
        self._pending: list[_Asked] = []
        self._asking: asyncio.Task[None] | None = None

    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        """The key of each lookup, made when missing, its use (and the consent to contact
        of those in `contact`) recorded: the store's answer."""
        asked = _Asked(lookups, contact, asyncio.get_running_loop().create_future())
        self._pending.append(asked)
        if self._asking is None:
            self._asking = asyncio.create_task(self._ask_pending())
        return await asked.answer

    async def _ask_pending(self) -> None:
        round_trip: list[_Asked] = []
        try:
            while self._pending:
                round_trip, self._pending = self._pending, []
                await self._ask(round_trip)
        finally:
            self._asking = None
            # Cancelled (intake stopping): whoever still waits is told the keys are out of reach.
            for asked in round_trip + self._pending:
                _fail(asked, ConnectionError("data key look-ups stopped"))
            self._pending = []

    async def _ask(self, round_trip: list[_Asked]) -> None:
        wanted = {lookup for asked in round_trip for lookup in asked.lookups}
        contact = {lookup for asked in round_trip for lookup in asked.contact}
        try:
            found = await self.store.for_supporters(wanted, contact)
        except Exception as exc:  # each caller decides what it means (a 503, for intake)
            for asked in round_trip:
                _fail(asked, exc)
            return
        for asked in round_trip:
            if not asked.answer.done():  # done: its request was cancelled meanwhile
                keys = {lookup: found[lookup] for lookup in asked.lookups if lookup in found}
                asked.answer.set_result(keys)


def _fail(asked: _Asked, error: BaseException) -> None:
    if not asked.answer.done():
        asked.answer.set_exception(error)
        # Marked retrieved: its caller may have stopped waiting (cancelled) meanwhile.
        asked.answer.add_done_callback(lambda done: done.exception())
