"""The one Kafka readiness probe of every service: a metadata round trip through the
admin client's public API (never a client's internals), remembered for a moment so a
busy `/readyz` poller does not turn into a metadata storm."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

TIMEOUT_S = 2.0  # a live broker answers in milliseconds; none answers at all while down
REMEMBER_S = 1.0


class KafkaProbe:
    """`reachable()`: whether a broker answered a metadata request within 2 s, asked at
    most once a second; the admin client connects on first use and after a failure."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._admin: AIOKafkaAdminClient | None = None
        self._answer = False
        self._asked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def reachable(self) -> bool:
        async with self._lock:
            if time.monotonic() - self._asked_at >= REMEMBER_S:
                self._answer = await self._ask()
                self._asked_at = time.monotonic()
            return self._answer

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.close()

    async def _ask(self) -> bool:
        try:
            await asyncio.wait_for(self._describe(), TIMEOUT_S)
        except (KafkaError, OSError, TimeoutError):
            await self.close()  # connect afresh next time (new nodes, new addresses)
            return False
        return True

    async def _describe(self) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                request_timeout_ms=int(TIMEOUT_S * 1000),
            )
            await admin.start()
            self._admin = admin
        await self._admin.describe_cluster()
