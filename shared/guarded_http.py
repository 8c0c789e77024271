"""The HTTP/1.1 connection protocol all three services run: uvicorn's httptools protocol
with the limits it lacks, so that one client cannot hold a service.

uvicorn (with httptools) times out only idle keep-alive connections: a client that sends
half its headers, or announces a body and sends one byte, keeps its connection and its
request's slot for ever; and httptools gathers a header's bytes however many come (a 256 MB
header stalled the counter for minutes). Here, on each connection:

- the request line and headers must arrive within `header_timeout_s` and stay within
  `max_header_bytes` and `max_headers` (else 431, before the parser gathers more);
- a body must keep coming at `body_min_rate` bytes per second, judged every
  `body_timeout_s` — except while the application is not reading it (reading is paused)
  or has not asked for it (`Expect: 100-continue`), which is the server's doing;
- a request cut off gets 408 when it can still be answered, and its connection is closed
  (after a short lingering close, so that the client reads the answer).

Every answer given here is problem+json, like the applications' own."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from prometheus_client import Counter
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

# Set in a request's scope when its body timed out, so that request is counted as 408.
TIMED_OUT = "plume.timed_out"
LINGER_S = 2.0

CUT_OFF = Counter(
    "plume_http_connections_cut_off_total",
    "Connections closed by the server's own limits, by reason",
    ["service", "reason"],
)
TITLES = {
    400: ("Bad Request", "the request is not valid HTTP/1.1"),
    408: ("Request Timeout", "the request did not arrive in time"),
    431: ("Request Header Fields Too Large", "too many or too large header fields"),
}


@dataclass(frozen=True)
class HttpLimits:
    service: str
    header_timeout_s: float = 5.0
    body_timeout_s: float = 5.0
    body_min_rate: int = 4_096
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100

    def protocol(self) -> Any:
        """What uvicorn takes as its `http` option (picklable, for worker processes)."""
        return functools.partial(GuardedHttpToolsProtocol, limits=self)


class _HeadersRefused(Exception):
    pass


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HttpLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # when `_on_deadline` is due: the timer may be due sooner
        self._on_deadline: Callable[[], None] | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._reading_head = True  # the next bytes belong to a request line or headers
        self._head_bytes = 0
        self._head_begun = False
        self._body_bytes = 0  # since the body was last judged
        self._refusal = (400, "bad_request")
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._stop_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        limit = self.limits.max_header_bytes
        # Once answered and hung up on our side (lingering), what still comes is dropped.
        while data and not (self._lingering or self.transport.is_closing()):
            if not self._reading_head:
                super().data_received(data)
                return
            room = limit - self._head_bytes
            part, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
            self._head_bytes += len(part)
            super().data_received(part)
            if self._reading_head and self._head_bytes >= limit and not self._lingering:
                self._refusal = (431, "headers_too_large")
                self.send_400_response("")
                return

    # Parser callbacks, around uvicorn's own
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._on_deadline is None:  # else the first request's, timed from connecting
            self._arm(self.limits.header_timeout_s, self._head_timed_out)

    def on_headers_complete(self) -> None:
        # Counted here, not per field: the byte limit already bounds what was gathered,
        # and a method called per field cost ~0.2 µs each on every request.
        if len(self.headers) > self.limits.max_headers:
            self._refusal = (431, "too_many_headers")
            raise _HeadersRefused  # stops the parser; uvicorn answers via send_400_response
        self._reading_head, self._head_bytes, self._head_begun = False, 0, False
        self._body_bytes = 0
        self._arm(self.limits.body_timeout_s, self._judge_body)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading_head = True
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        status, reason = self._refusal
        self._answer(status)
        self._cut_off(reason, answered=True)

    # Timers
    def _head_timed_out(self) -> None:
        cycle = self.cycle
        answerable = self._head_begun and (cycle is None or cycle.response_complete)
        if answerable:
            self._answer(408)
        self._cut_off("header_timeout", answered=answerable)

    def _judge_body(self) -> None:
        cycle = self.cycle
        kept_up = self._body_bytes >= self.limits.body_min_rate * self.limits.body_timeout_s
        # The service is not reading it, or has not asked for it yet (Expect: 100-continue).
        not_asked = self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue)
        if kept_up or not_asked:
            self._body_bytes = 0
            self._arm(self.limits.body_timeout_s, self._judge_body)
            return
        answerable = cycle is not None and not cycle.response_started
        if answerable:
            cast(dict[str, Any], cycle.scope)[TIMED_OUT] = True
            cycle.disconnected = True  # the application's receive() says so; its sends drop
            cycle.message_event.set()
            self._answer(408)
        self._cut_off("body_timeout", answered=answerable)

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        """`callback` once `delay` has passed, unless disarmed or armed again before. One
        timer per connection, moved only when a deadline comes sooner than it is due: a
        timer made and cancelled twice per request cost ~4 µs of every single POST."""
        self._deadline = self.loop.time() + delay
        self._on_deadline = callback
        if self._timer is None or self._deadline < self._timer.when():
            self._schedule(self._deadline)

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(when, self._timer_due)

    def _timer_due(self) -> None:
        self._timer = None
        callback = self._on_deadline
        if callback is None:
            return  # disarmed since; the next `_arm` schedules anew
        if self.loop.time() < self._deadline:
            self._schedule(self._deadline)  # armed again since, for later
            return
        self._on_deadline = None
        callback()

    def _disarm(self) -> None:
        self._on_deadline = None  # a timer still due finds nothing to do

    def _stop_timers(self) -> None:
        for timer in (self._timer, self._linger):
            if timer is not None:
                timer.cancel()
        self._timer = self._linger = None

    def _answer(self, status: int) -> None:
        title, detail = TITLES[status]
        body = orjson.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        )
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body),
        ]
        self.transport.write(b"".join(head) + body)

    def _cut_off(self, reason: str, answered: bool) -> None:
        """Close the connection. After an answer, first only our side, for a while: data
        the client is still sending would otherwise make the kernel reset the connection,
        and the client lose the answer before reading it (a "lingering close")."""
        CUT_OFF.labels(self.limits.service, reason).inc()
        self._disarm()
        if not (answered and self.transport.can_write_eof()):
            self.transport.close()
            return
        self._lingering = True
        self.transport.write_eof()
        self.flow.resume_reading()
        self._linger = self.loop.call_later(LINGER_S, self.transport.close)
