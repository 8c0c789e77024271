"""The open loop of bench.intake_load, on asyncio protocols and httptools' parser: requests
start at a constant rate whatever the answers, and latency counts from each request's
scheduled start, so a slow server cannot hide its queueing (no coordinated omission).

Written at the protocol level because the stream-and-task version could not keep up with
its own schedule on a loaded 2-core machine (1,025 answers/s for 1,843 scheduled against
the no-op app), which made the floor's p99 a measure of the generator. Bounded: at most
`cap` requests in flight (one per connection, keep-alive); a request due while all are
busy waits for the next free one (its wait counts in its latency); the run ends once every
scheduled request is answered or has failed, or DRAIN_S after the last was due (those
still unanswered count as failed)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Protocol, cast

import httptools

from bench.intake_load import ATTEMPTS, MAX_RETRY_WAIT_S, Requests, Results, with_named_ids

DRAIN_S = 30.0
# A connection idle this long is closed here rather than reused: servers close idle
# keep-alive connections (uvicorn after 5 s), and a request written just as the server
# closes one is lost with it, a failure of the generator's, not the server's.
IDLE_S = 2.0
UNANSWERED = 599


class _Pool(Protocol):
    def answered(self, conn: _Connection, status: int, body: bytes, retry_after: float) -> None: ...
    def lost(self, conn: _Connection) -> None: ...


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.request: tuple[float, bytes, int] | None = None  # scheduled, body, attempt
        self.idle_since = 0.0
        self._body: list[bytes] = []
        self._retry_after = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's: not a subclass

    def send(self, wire: bytes, request: tuple[float, bytes, int]) -> None:
        assert self.transport is not None
        self.request = request
        self._body, self._retry_after = [], 0.0
        self.transport.write(wire)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def close(self) -> None:
        """Closed, by either side; a request in flight is lost with it."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None
            self.pool.lost(self)

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"retry-after" and value.strip().isdigit():
            self._retry_after = float(value)

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        self.pool.answered(self, status, b"".join(self._body), self._retry_after)


class OpenLoop:
    def __init__(self, host: str, port: int, stream: Requests, cap: int) -> None:
        self.host, self.port, self.stream, self.cap = host, port, stream, cap
        self.results = Results()
        self.idle: list[_Connection] = []
        self.busy: set[_Connection] = set()
        self.opening: set[asyncio.Task[None]] = set()
        self.opened = 0
        self.due: collections.deque[tuple[float, bytes, int]] = collections.deque()
        self.unsettled = 0
        self.settled = asyncio.Event()

    async def run(self, rate: float, seconds: float, connections: int) -> dict[str, float]:
        for _ in range(min(connections, self.cap)):
            await self._open()
        started = time.perf_counter()
        total = int(rate * seconds)
        self.unsettled = total
        for n in range(total):
            scheduled = started + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self._start((scheduled, next(self.stream), 1))
        if total:
            try:
                await asyncio.wait_for(self.settled.wait(), DRAIN_S)
            except TimeoutError:
                self._give_up()
        for conn in [*self.idle, *self.busy]:
            if conn.transport is not None:
                conn.transport.close()
        return self.results.summary(time.perf_counter() - started)

    def _give_up(self) -> None:
        for conn in self.busy:
            if conn.request is not None:
                self._settle(UNANSWERED, conn.request[0])
                conn.request = None
        while self.due:
            self._settle(UNANSWERED, self.due.popleft()[0])

    async def _open(self) -> None:
        self.opened += 1
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: _Connection(self), self.host, self.port)
        except OSError:
            self.opened -= 1
            raise
        self._free(conn)

    def _start(self, request: tuple[float, bytes, int]) -> None:
        while self.idle:
            conn = self.idle.pop()  # the most recently used: the others may go stale
            if time.perf_counter() - conn.idle_since < IDLE_S:
                self._send(conn, request)
                return
            conn.close()
        self.due.append(request)
        self._open_for_due()

    def _open_for_due(self) -> None:
        if self.opened < self.cap:
            task = asyncio.get_running_loop().create_task(self._open_or_fail())
            self.opening.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self.opening.discard)

    async def _open_or_fail(self) -> None:
        try:
            await self._open()
        except OSError:  # refused: the request it was opened for fails
            if self.due:
                self._settle(UNANSWERED, self.due.popleft()[0])

    def _send(self, conn: _Connection, request: tuple[float, bytes, int]) -> None:
        self.busy.add(conn)
        conn.send(self.stream.wire(request[1]), request)

    def _free(self, conn: _Connection) -> None:
        self.busy.discard(conn)
        if self.due:
            self._send(conn, self.due.popleft())
        else:
            conn.idle_since = time.perf_counter()
            self.idle.append(conn)

    def answered(self, conn: _Connection, status: int, body: bytes, retry_after: float) -> None:
        assert conn.request is not None
        scheduled, sent, attempt = conn.request
        conn.request = None
        self._free(conn)
        if status == 503 and attempt < ATTEMPTS:
            self.results.retried += 1
            again = (scheduled, with_named_ids(sent, body), attempt + 1)
            wait = min(retry_after, MAX_RETRY_WAIT_S)
            asyncio.get_running_loop().call_later(wait, self._start, again)
            return
        self._settle(status, scheduled)

    def lost(self, conn: _Connection) -> None:
        self.opened -= 1
        self.busy.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.request is not None:
            self._settle(UNANSWERED, conn.request[0])
            conn.request = None
        if self.due:
            self._open_for_due()

    def _settle(self, status: int, scheduled: float) -> None:
        self.results.record(status, time.perf_counter() - scheduled)
        self.unsettled -= 1
        if self.unsettled == 0:
            self.settled.set()
