"""How many bytes of batch bodies intake reads and decodes at once, in all and per key.

A 4 MiB batch becomes tens of MB of Python objects while it is decoded and published; 30 of
them at once took intake past 1 GB and blocked its event loop for seconds. A batch takes
its room (its announced size) before its body is read, and waits in line for it when the
room is taken (its body stays in the client's socket meanwhile): partners get back-pressure,
not errors, up to a deadline; past it, 429 when the key's own share is full, else 503."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable


class NoRoom(Exception):
    def __init__(self, owner_full: bool) -> None:
        super().__init__("owner" if owner_full else "total")
        self.owner_full = owner_full


class ByteBudget:
    def __init__(
        self,
        total: int,
        per_owner: int,
        on_change: Callable[[int, int], None] = lambda held, waiting: None,
    ) -> None:
        self.total = total
        self.per_owner = min(per_owner, total)
        self.used = 0
        self.waiting = 0
        self.by_owner: Counter[str] = Counter()
        self.on_change = on_change  # (bytes held, requests waiting), for the metrics
        self._freed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def hold(self, owner: str, size: int, wait_s: float) -> AsyncIterator[None]:
        """Hold `size` bytes for `owner` inside the block; NoRoom if they cannot be had
        within `wait_s` seconds. (No request ever asks for more than its owner's share.)"""
        size = min(size, self.per_owner)
        await self._wait_for_room(owner, size, wait_s)
        self.used += size
        self.by_owner[owner] += size
        self.on_change(self.used, self.waiting)
        try:
            yield
        finally:
            self.used -= size
            self.by_owner[owner] -= size
            if not self.by_owner[owner]:
                del self.by_owner[owner]
            self.on_change(self.used, self.waiting)
            self._freed.set()  # every waiter looks again; the first that fits goes
            self._freed = asyncio.Event()

    def fits(self, owner: str, size: int) -> bool:
        return self.used + size <= self.total and self.by_owner[owner] + size <= self.per_owner

    async def _wait_for_room(self, owner: str, size: int, wait_s: float) -> None:
        if self.fits(owner, size):
            return
        deadline = asyncio.get_running_loop().time() + wait_s
        self.waiting += 1
        self.on_change(self.used, self.waiting)
        try:
            while not self.fits(owner, size):
                async with asyncio.timeout_at(deadline):
                    await self._freed.wait()
        except TimeoutError:
            raise NoRoom(self.by_owner[owner] + size > self.per_owner) from None
        finally:
            self.waiting -= 1
            self.on_change(self.used, self.waiting)
