"""The guarded HTTP protocol, fed bytes directly (no socket): what it answers and when it
hangs up. Its timers are called by hand, so no test waits for one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from shared.guarded_http import TIMED_OUT, GuardedHttpToolsProtocol, HttpLimits

pytestmark = pytest.mark.unit
LIMITS = HttpLimits("test", max_header_bytes=1_024, max_headers=10, body_min_rate=100)


class Transport(asyncio.Transport):
    """Records what the protocol writes and whether it hung up (its side, or wholly)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.eof = self.closed = self.paused = False

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def write_eof(self) -> None:
        self.eof = True

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)


class App:
    """Reads nothing until told; records the scopes it was called with."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.go = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await self.go.wait()


Connect = Callable[[App], tuple[GuardedHttpToolsProtocol, Transport]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """New connections to the protocol; each lost (its timers off, its request ended) at
    the end of the test."""
    made: list[tuple[GuardedHttpToolsProtocol, App]] = []

    def new(app: App) -> tuple[GuardedHttpToolsProtocol, Transport]:
        config = Config(app, log_config=None, lifespan="off")
        protocol = GuardedHttpToolsProtocol(config, ServerState(), {}, limits=LIMITS)
        transport = Transport()
        protocol.connection_made(transport)
        made.append((protocol, app))
        return protocol, transport

    yield new
    for protocol, app in made:
        protocol.connection_lost(None)
        app.go.set()
    await asyncio.sleep(0)


def status(transport: Transport) -> int:
    return int(transport.written.split(b" ", 2)[1])


async def test_a_head_past_the_byte_limit_is_431_after_at_most_the_limit(connect: Connect) -> None:
    app = App()
    protocol, transport = connect(app)
    protocol.data_received(b"GET / HTTP/1.1\r\nX-Huge: " + b"a" * 100_000)
    assert status(transport) == 431 and b"application/problem+json" in transport.written
    assert transport.eof and not app.scopes  # answered, our side closed, no request made
    protocol.data_received(b"a" * 100_000)  # what still comes while lingering is dropped
    assert transport.written.count(b"HTTP/1.1") == 1


async def test_a_head_within_the_limit_in_pieces_is_a_request(connect: Connect) -> None:
    app = App()
    protocol, transport = connect(app)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Fine: " + b"a" * 900 + b"\r\n\r\n"
    for piece in (head[:500], head[500:]):
        protocol.data_received(piece)
    await asyncio.sleep(0)
    assert len(app.scopes) == 1 and transport.written == b""


async def test_more_header_fields_than_the_limit_is_431(connect: Connect) -> None:
    protocol, transport = connect(App())
    fields = b"".join(b"X-%d: a\r\n" % i for i in range(11))
    protocol.data_received(b"GET / HTTP/1.1\r\n" + fields + b"\r\n")
    assert status(transport) == 431


async def test_a_head_that_stops_coming_is_408_and_an_idle_connection_just_closed(
    connect: Connect,
) -> None:
    protocol, transport = connect(App())
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
    protocol._head_timed_out()
    assert status(transport) == 408 and transport.eof
    protocol, idle = connect(App())
    protocol._head_timed_out()
    assert idle.written == b"" and idle.closed


async def test_a_body_is_judged_only_while_the_service_reads_it(connect: Connect) -> None:
    app = App()
    protocol, transport = connect(app)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    protocol.data_received(b"a" * 1_000)  # 1,000 bytes: enough for one period (500)
    protocol._judge_body()
    assert not transport.eof
    protocol.flow.pause_reading()  # the service is not reading it (waiting for room, say)
    protocol._judge_body()
    protocol._judge_body()
    assert not transport.eof  # not the client's fault
    protocol.flow.resume_reading()
    protocol.data_received(b"a" * 10)  # far below 100 bytes/s over the period
    protocol._judge_body()
    assert status(transport) == 408 and transport.eof
    await asyncio.sleep(0)
    [scope] = app.scopes
    assert scope[TIMED_OUT]  # counted as 408 by the request metrics
    assert protocol.cycle.disconnected  # the service's receive() says so; its sends drop


async def test_a_body_the_client_was_not_asked_for_yet_is_not_judged(connect: Connect) -> None:
    protocol, transport = connect(App())
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n"
    protocol.data_received(head)
    protocol._judge_body()  # the service has not called receive(): no "100 Continue" sent
    assert not transport.eof and transport.written == b""


class Clock:
    """The running loop, but with a time the test sets and timers the test fires."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.now = loop, 0.0
        self.timers: list[asyncio.TimerHandle] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loop, name)

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        timer = asyncio.TimerHandle(when, callback, (), self.loop)
        self.timers.append(timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return self.call_at(self.now + delay, callback)

    def advance_to(self, now: float) -> None:
        """Fire, in turn, the timers due by `now` (and those they set that are due)."""
        while due := [t for t in self.timers if not t.cancelled() and t.when() <= now]:
            timer = min(due, key=lambda t: t.when())
            self.timers.remove(timer)
            self.now = timer.when()
            timer._run()
        self.now = now


async def test_one_timer_follows_each_deadline_of_a_connection() -> None:
    """A deadline set later than the connection's timer is due waits for it (no new timer
    per request); one set sooner moves it; a request answered leaves nothing due."""
    clock = Clock(asyncio.get_running_loop())
    app = App()
    limits = HttpLimits("test", header_timeout_s=5.0, body_timeout_s=1.0, body_min_rate=100)
    config = Config(app, log_config=None, lifespan="off")
    protocol = GuardedHttpToolsProtocol(config, ServerState(), {}, clock, limits=limits)  # type: ignore[arg-type]
    transport = Transport()
    protocol.connection_made(transport)
    try:
        [head_timer] = clock.timers
        assert head_timer.when() == 5.0
        clock.advance_to(4.5)
        protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
        # the body's deadline (5.5) comes after the timer's (5.0): the same timer stays
        assert clock.timers == [head_timer] and not head_timer.cancelled()
        protocol.data_received(b"a" * 200)  # 200 bytes by 5.5: enough for one period
        clock.advance_to(5.2)
        assert clock.timers[0].when() == 5.5 and not transport.eof  # moved, not fired
        clock.advance_to(5.5)
        assert not transport.eof and clock.timers[0].when() == 6.5  # judged, kept up
        clock.advance_to(6.5)  # nothing more came meanwhile
        assert status(transport) == 408 and transport.eof
    finally:
        protocol.connection_lost(None)
        app.go.set()
        await asyncio.sleep(0)
    assert all(timer.cancelled() for timer in clock.timers)
