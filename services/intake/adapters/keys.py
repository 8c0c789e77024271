"""API keys from PostgreSQL (the KeyStore port), looked up on every request that carries
one: a revoked key is refused on the very next request (an indexed lookup of a hash; cheap
next to the write)."""

from __future__ import annotations

import asyncpg

from shared import apikeys


class PostgresKeyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def find(self, secret: str) -> apikeys.ApiKey | None:
        async with self.pool.acquire(timeout=2) as conn:
            return await apikeys.find_key(conn, secret)
