"""The benchmark's open-loop generator (bench/open_loop.py) against a small HTTP server on
the loopback: it keeps its schedule, retries a 503 with the id it names, counts a dropped
connection as a failure, and ends by itself in every case."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from bench.intake_load import Requests
from bench.open_loop import OpenLoop

pytestmark = pytest.mark.integration
Answer = Callable[[bytes], bytes | None]  # the body received -> the answer, None: hang up


def http_answer(status: int, body: bytes, extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def serve(answer: Answer, accepted: list[int] | None = None) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if accepted is not None:
            accepted.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                reply = answer(await reader.readexactly(length))
                if reply is None:
                    break
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def bodies() -> AsyncIterator[list[bytes]]:
    yield [orjson.dumps({"n": n}) for n in range(10)]


async def run_against(answer: Answer, bodies: list[bytes], rate: float) -> dict[str, float]:
    server, port = await serve(answer)
    try:
        stream = Requests(f"127.0.0.1:{port}", "/v1/actions", bodies, {})
        generator = OpenLoop("127.0.0.1", port, stream, cap=8)
        return await asyncio.wait_for(generator.run(rate, 0.5, connections=2), 10)
    finally:
        server.close()


async def test_every_scheduled_request_is_answered_on_schedule(bodies: list[bytes]) -> None:
    result = await run_against(lambda _: http_answer(202, b"{}"), bodies, rate=200)
    assert (result["sent"], result["ok"], result["failed"]) == (100, 100, 0)
    assert result["seconds"] < 2


async def test_a_503_is_retried_with_the_id_it_named(bodies: list[bytes]) -> None:
    def answer(body: bytes) -> bytes:
        if b"action_id" in body:
            return http_answer(202, b"{}")
        named = orjson.dumps({"status": 503, "action_id": "a-1"})
        return http_answer(503, named, "Retry-After: 0\r\n")

    result = await run_against(answer, bodies, rate=100)
    assert (result["sent"], result["ok"], result["retried"]) == (50, 50, 50)


async def test_a_connection_dropped_counts_as_failed_and_the_run_ends(
    bodies: list[bytes],
) -> None:
    result = await run_against(lambda _: None, bodies, rate=100)
    assert result["sent"] == 50
    assert result["failed"] >= 1
    assert result["ok"] == 0


async def test_a_server_that_never_answers_is_given_up_on(
    bodies: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bench.open_loop.DRAIN_S", 0.3)
    hung = asyncio.Event()

    async def never_answer(_: asyncio.StreamReader, __: asyncio.StreamWriter) -> None:
        await hung.wait()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        stream = Requests(f"127.0.0.1:{port}", "/v1/actions", bodies, {})
        generator = OpenLoop("127.0.0.1", port, stream, cap=4)
        result = await asyncio.wait_for(generator.run(100, 0.2, connections=2), 5)
    finally:
        hung.set()
        silent.close()
    assert (result["sent"], result["ok"], result["failed"]) == (20, 0, 20)


@pytest.mark.parametrize(("idle_s", "connections"), [(2.0, 1), (0.05, 5)])
async def test_a_connection_idle_too_long_is_not_reused(
    bodies: list[bytes], monkeypatch: pytest.MonkeyPatch, idle_s: float, connections: int
) -> None:
    """Servers close idle keep-alive connections, and a request written just as one closes
    is lost with it: one idle past IDLE_S is closed here and a fresh one opened instead.
    (5 requests 100 ms apart: each finds its connection idle for 100 ms.)"""
    monkeypatch.setattr("bench.open_loop.IDLE_S", idle_s)
    accepted: list[int] = []
    server, port = await serve(lambda _: http_answer(202, b"{}"), accepted)
    try:
        stream = Requests(f"127.0.0.1:{port}", "/v1/actions", bodies, {})
        generator = OpenLoop("127.0.0.1", port, stream, cap=8)
        result = await asyncio.wait_for(generator.run(10, 0.5, connections=1), 10)
    finally:
        server.close()
    assert (result["sent"], result["ok"]) == (5, 5)
    assert len(accepted) == connections
