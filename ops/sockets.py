"""Raw HTTP/1.1 connections for the probe: a request whose body never comes, a stream that
stays open. (An HTTP client library would finish or time out the request itself.)"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

SLOW_BODY = (
    "POST /v1/actions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    "Content-Length: 200\r\nX-Forwarded-For: {address}\r\n\r\n{{"
)
STREAM = (
    "GET /v1/totals/stream HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
    "X-Forwarded-For: {address}\r\n\r\n"
)


@dataclass
class Held:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    drain: asyncio.Task[None] | None = None
    events: int = 0  # of a stream, read so far

    def close(self) -> None:
        if self.drain is not None:
            self.drain.cancel()
        self.writer.close()


async def _connect(host: str, port: int, request: str) -> Held | None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except (OSError, TimeoutError):
        return None
    writer.write(request.encode())
    with contextlib.suppress(OSError):
        await writer.drain()
    return Held(reader, writer)


async def hold_slow_body(host: str, port: int, address: str) -> Held | None:
    """A POST announcing 200 bytes of body and sending one."""
    return await _connect(host, port, SLOW_BODY.format(host=host, address=address))


async def how_it_ended(held: Held, deadline: float) -> tuple[str, float]:
    """The status the server answered ("closed" when it hung up without one, "open" if it
    did neither by `deadline`, a monotonic time) and when."""
    try:
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + _left(deadline)):
            first = await held.reader.read(4096)
    except TimeoutError:
        first = None
    except OSError:
        first = b""
    finally:
        held.close()
    if first is None:
        return "open", time.monotonic()
    return (_status(first) if first else "closed"), time.monotonic()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _status(head: bytes) -> str:
    parts = head.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 else "garbled"


async def open_stream(host: str, port: int, address: str) -> tuple[int, Held | None]:
    """(status, the open stream — its events read and dropped in the background — or None
    when the server refused or the connection failed; status 0 then)."""
    held = await _connect(host, port, STREAM.format(host=host, address=address))
    if held is None:
        return 0, None
    try:
        line = await asyncio.wait_for(held.reader.readline(), 30)
    except (OSError, TimeoutError):
        line = b""
    status = int(_status(line)) if line.startswith(b"HTTP/") else 0
    if status != 200:
        held.close()
        return status, None
    held.drain = asyncio.create_task(_drain(held))
    return status, held


async def _drain(held: Held) -> None:
    with contextlib.suppress(OSError):
        while chunk := await held.reader.read(65536):
            held.events += chunk.count(b"event: ")
