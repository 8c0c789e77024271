"""Supporters' data keys held in memory by intake, so that sealing an action costs no
PostgreSQL round trip for a supporter seen recently.

Bound: at most `capacity` keys (least recently used dropped first). A key is used from
memory only while its use was recorded in PostgreSQL less than RECORD_USE_EVERY_S ago (and
its supporter's consent to contact, when an action gives it), so the keys' retention (days,
run by delivery) never destroys a key intake is sealing with. A destroyed key (erased, or
expired) must not seal anything more: `follow()`, a supervised task, LISTENs for the lookups
of destroyed keys and drops them; while it is not connected (before the first connection,
after a lost one) nothing is kept and every look-up goes to PostgreSQL, and each
(re)connect starts from an empty memory, so no destruction made while away is missed."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.intake.adapters.gathered_keys import GatheredDataKeys
from shared.data_keys import DESTROYED_CHANNEL, RECORD_USE_EVERY_S, DataKey, PgDataKeyStore

PROBE_EVERY_S = 10.0  # a connection lost without a word is found out within this


@dataclass(frozen=True, slots=True)
class Held:
    key: DataKey
    recorded_at: float  # monotonic: when the look-up that recorded its use began
    contact: bool  # its supporter's consent to contact is recorded


def _fresh(held: Held | None, wants_contact: bool, now: float) -> DataKey | None:
    if held is None or now - held.recorded_at >= RECORD_USE_EVERY_S:
        return None
    return held.key if held.contact or not wants_contact else None


class CachedDataKeys:
    APPLICATION_NAME = "plume-intake-data-keys"

    def __init__(self, store: PgDataKeyStore, database_url: str, capacity: int) -> None:
        self.store = store
        self._asked = GatheredDataKeys(store)  # what is not held: concurrent misses asked at once
        self.database_url = database_url
        self.capacity = capacity
        self._held: OrderedDict[str, Held] | None = None  # None: not following
        self._destroyed = 0  # destructions heard: a look-up that saw one keeps nothing

    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        held = self._held
        if held is None:
            return await self._asked.for_supporters(lookups, contact)
        began, consenting = time.monotonic(), set(contact)
        found = {
            lookup: key
            for lookup in lookups
            if (key := _fresh(held.get(lookup), lookup in consenting, began)) is not None
        }
        missing = [lookup for lookup in lookups if lookup not in found]
        if missing:
            heard = self._destroyed
            fetched = await self._asked.for_supporters(missing, consenting.intersection(missing))
            # A key destroyed while it was fetched may be among them: keep none then.
            if self._held is held and heard == self._destroyed:
                for lookup, key in fetched.items():
                    before = held.get(lookup)
                    had_contact = before is not None and before.contact and before.key == key
                    held[lookup] = Held(key, began, lookup in consenting or had_contact)
                while len(held) > self.capacity:
                    held.popitem(last=False)
            found.update(fetched)
        for lookup in found:
            if lookup in held:
                held.move_to_end(lookup)
        return found

    def following(self) -> bool:
        return self._held is not None

    def holds(self, lookup: str) -> bool:
        return self._held is not None and lookup in self._held

    def __len__(self) -> int:
        return len(self._held or ())

    def forget(self, lookup: str) -> None:
        self._destroyed += 1
        if self._held is not None:
            self._held.pop(lookup, None)

    async def follow(self) -> None:
        """Keep keys in memory until cancelled; raises when the connection is lost."""
        conn = await asyncpg.connect(
            self.database_url,
            timeout=10,
            server_settings={"application_name": self.APPLICATION_NAME},
        )

        def destroyed(_conn: Any, _pid: int, _channel: str, lookup: object) -> None:
            self.forget(str(lookup))

        def lost(*_: Any) -> None:
            self._held = None

        try:
            conn.add_termination_listener(lost)
            await conn.add_listener(DESTROYED_CHANNEL, destroyed)
            self._held = OrderedDict()  # only once listening: nothing destroyed is missed
            while True:
                await asyncio.sleep(PROBE_EVERY_S)
                await conn.fetchval("SELECT 1", timeout=PROBE_EVERY_S)
        finally:
            self._held = None
            conn.terminate()
