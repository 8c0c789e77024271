"""Requests an HTTP client library would not make: a body that comes slowly (and may stop
coming), a client that hangs up half-way; and reading a service's own metrics."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families


class SlowUpload:
    """A POST whose head goes at once and whose body trickles in `chunk` bytes every
    `every` seconds until `stop_trickling()`; never complete before `length` bytes."""

    def __init__(
        self, url: str, path: str, length: int, headers: dict[str, str], chunk: int = 512
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.chunk, self.left = chunk, length - 1
        self.writer: asyncio.StreamWriter | None = None
        self.reader: asyncio.StreamReader | None = None
        self.trickling: asyncio.Task[None] | None = None

    async def start(self, every: float = 0.1) -> SlowUpload:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.head + b" ")
        await self.writer.drain()
        self.trickling = asyncio.create_task(self._trickle(every))
        return self

    async def _trickle(self, every: float) -> None:
        assert self.writer is not None
        with contextlib.suppress(OSError):
            while self.left > self.chunk:
                await asyncio.sleep(every)
                self.writer.write(b" " * self.chunk)
                self.left -= self.chunk
                await self.writer.drain()

    def stop_trickling(self) -> None:
        if self.trickling is not None:
            self.trickling.cancel()

    async def answer(self, within: float) -> bytes:
        """All the server sends until it closes the connection (b"" if it only closes)."""
        assert self.reader is not None
        async with asyncio.timeout(within):
            return await self.reader.read()

    def hang_up(self) -> None:
        self.stop_trickling()
        if self.writer is not None:
            self.writer.close()


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample of the service's /metrics (0 when absent)."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
