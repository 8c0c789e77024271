"""API keys held in memory (intake's KeyStore port; the counter's action look-up): a keyed
request costs a hash and a dict look-up, not a PostgreSQL round trip (which queued 64
connections on the pool).

`follow()`, a supervised task, LISTENs for the changes the trigger on `access.api_keys`
announces and reloads every live key on each; it LISTENs before it loads, and loads
everything on each (re)connect, so no change made while it was away can leave a revoked key
in memory. A key missing from memory is looked up in PostgreSQL: one created an instant
ago is found before its notification arrives (and is not added here, where only a reload
may put keys). While `follow()` is not connected nothing in memory is trusted and every
look-up goes to PostgreSQL, as before this store existed."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from shared import apikeys

PROBE_EVERY_S = 10.0  # a connection lost without a word is found out within this


class ListeningKeyStore:
    """Used by intake (every action route) and the counter (the action look-up)."""

    APPLICATION_NAME = "plume-intake-keys"  # its LISTENing connection in pg_stat_activity

    def __init__(
        self, pool: asyncpg.Pool, database_url: str, application_name: str = APPLICATION_NAME
    ) -> None:
        self.pool = pool
        self.database_url = database_url
        self.application_name = application_name
        self._live: dict[bytes, apikeys.ApiKey] | None = None  # None: not following

    def loaded(self) -> bool:
        return self._live is not None

    def held_hashes(self) -> frozenset[bytes]:
        """The hashes of the keys held in memory now (empty while not following)."""
        return frozenset(self._live or ())

    async def find(self, secret: str) -> apikeys.ApiKey | None:
        live = self._live
        if live is not None and (key := live.get(apikeys.hash_key(secret))) is not None:
            return key
        async with self.pool.acquire(timeout=2) as conn:
            return await apikeys.find_key(conn, secret)

    async def follow(self) -> None:
        """Hold the live keys until cancelled; raises when the connection is lost."""
        conn = await asyncpg.connect(
            self.database_url,
            timeout=10,
            server_settings={"application_name": self.application_name},
        )
        changed = asyncio.Event()

        def forget(*_: Any) -> None:  # the connection is gone: trust nothing held
            self._live = None
            changed.set()

        try:
            conn.add_termination_listener(forget)
            await conn.add_listener(apikeys.CHANGES_CHANNEL, lambda *_: changed.set())
            while True:
                changed.clear()  # before the load: a change during it loads again
                self._live = await apikeys.live_keys(conn)
                await self._until_changed(conn, changed)
        finally:
            self._live = None
            conn.terminate()

    @staticmethod
    async def _until_changed(conn: asyncpg.Connection, changed: asyncio.Event) -> None:
        while not changed.is_set():
            try:
                await asyncio.wait_for(changed.wait(), PROBE_EVERY_S)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=PROBE_EVERY_S)
