"""A small HTTP/1.1 load generator for the intake benchmarks, run as its own process
(`python -m bench.intake_load ...`) so it does not share an event loop with the server.

- open loop (bench/open_loop.py): requests start at a constant rate whatever the answers;
  latency counts from the scheduled start, so a slow server cannot hide its queueing (no
  coordinated omission); at most MAX_CONNECTIONS in flight.
- closed loop: each connection sends its next request when the previous one is answered.
- a 503 is retried as the contract asks of every client (v2, "Outcome of a refused write"):
  with the `action_id`s it names, after its `Retry-After` (capped), at most a few times;
  the latency runs from the first attempt, and the retries are counted.
Prints one JSON object: sent, ok (2xx), failed, retried, seconds, rate, p50_ms, p99_ms."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import uvloop

# Below the usual 1,024 open files, leaving room for the rest of the process.
MAX_CONNECTIONS = 512
ATTEMPTS = 4  # then the request counts as failed
MAX_RETRY_WAIT_S = 2.0  # a benchmark waits less than a real client would


class Requests:
    """The bodies to post, in turn, and the request bytes of each."""

    def __init__(self, host: str, path: str, bodies: list[bytes], headers: dict[str, str]):
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{extra}"
        )
        self.bodies = itertools.cycle(bodies)

    def __next__(self) -> bytes:
        return next(self.bodies)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def wire(self, body: bytes) -> bytes:
        return f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def with_named_ids(body: bytes, answer: bytes) -> bytes:
    """`body` again, carrying the ids a 503 named: `action_id` for a single action,
    `action_ids` item by item for a batch (null for an item validation refused)."""
    try:
        named = orjson.loads(answer)
        sent = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(named, dict) or not isinstance(sent, dict):
        return body
    if isinstance(named.get("action_id"), str):
        sent["action_id"] = named["action_id"]
    ids = named.get("action_ids")
    items = sent.get("actions")
    if isinstance(ids, list) and isinstance(items, list) and len(ids) == len(items):
        for item, action_id in zip(items, ids, strict=True):
            if isinstance(item, dict) and isinstance(action_id, str):
                item["action_id"] = action_id
    return orjson.dumps(sent)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes, float]:
        """Status, body and Retry-After (seconds, 0 when absent) of the answer."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, retry_after = 0, 0.0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
            elif line[:12].lower() == b"retry-after:" and line[12:].strip().isdigit():
                retry_after = float(line[12:])
        return status, await self.reader.readexactly(length), retry_after

    async def post(self, requests: Requests, body: bytes, results: Results) -> int:
        """Post `body`, retrying a 503 with the ids it names; the last status."""
        for attempt in range(1, ATTEMPTS + 1):
            status, answer, retry_after = await self.exchange(requests.wire(body))
            if status != 503 or attempt == ATTEMPTS:
                return status
            results.retried += 1
            body = with_named_ids(body, answer)
            await asyncio.sleep(min(retry_after, MAX_RETRY_WAIT_S))
        return status


class Results:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.ok = 0
        self.failed = 0
        self.retried = 0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        if 200 <= status < 300:
            self.ok += 1
        else:
            self.failed += 1

    def summary(self, seconds: float) -> dict[str, float]:
        ordered = sorted(self.latencies) or [0.0]
        return {
            "sent": len(self.latencies),
            "ok": self.ok,
            "failed": self.failed,
            "retried": self.retried,
            "seconds": seconds,
            "rate": self.ok / seconds,
            "p50_ms": ordered[len(ordered) // 2] * 1e3,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
        }


async def connect(host: str, port: int) -> Connection:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    return Connection(reader, writer)


async def closed_loop(args: argparse.Namespace, stream: Requests) -> dict[str, float]:
    url = urlsplit(args.url)
    results = Results()
    connections = [
        await connect(url.hostname or "", url.port or 80) for _ in range(args.connections)
    ]
    started = time.perf_counter()
    stop = started + args.seconds

    async def run(connection: Connection) -> None:
        while time.perf_counter() < stop:
            begin = time.perf_counter()
            try:
                status = await connection.post(stream, next(stream), results)
            except (OSError, asyncio.IncompleteReadError):
                results.record(599, time.perf_counter() - begin)
                return
            results.record(status, time.perf_counter() - begin)

    await asyncio.gather(*(run(c) for c in connections))
    return results.summary(time.perf_counter() - started)


async def open_loop(args: argparse.Namespace, stream: Requests) -> dict[str, float]:
    from bench.open_loop import OpenLoop  # it builds on this module's parts

    url = urlsplit(args.url)
    generator = OpenLoop(url.hostname or "", url.port or 80, stream, MAX_CONNECTIONS)
    return await generator.run(args.rate, args.seconds, args.connections)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["open", "closed"], required=True)
    parser.add_argument("--bodies", required=True, help="file with one JSON body per line")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    with open(args.bodies, "rb") as file:
        bodies = [line.rstrip(b"\n") for line in file if line.strip()]
    headers = dict(h.split(": ", 1) for h in args.header)
    url = urlsplit(args.url)
    stream = Requests(url.netloc, url.path, bodies, headers)
    run = open_loop if args.mode == "open" else closed_loop
    print(json.dumps(uvloop.run(run(args, stream))))


if __name__ == "__main__":
    main()
