"""`python -m ops.probe slow-bodies|streams|batches|all`: presses on the running local stack
the way one hostile or careless client would (issue 9) and prints what it did to the
service: resident memory, `/healthz` latency, and how every request ended. Every scenario
caps what it holds open and ends by itself."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import httpx

from ops.endpoints import Endpoints, temporary_keys
from ops.measure import (
    rss_mb,
    sample_healthz,
)
from ops.probe_batches import batches
from ops.sockets import Held, hold_slow_body, how_it_ended, open_stream
from shared.apikeys import Scope

MAX_CONNECTIONS = 5_000
OPENING_AT_ONCE = 200


def address(i: int) -> str:
    """A client address of its own in X-Forwarded-For, so the per-address limits see many
    clients, as in an attack from many machines. Intake believes it only from a trusted
    proxy: run the stack with `PLUME_INTAKE_TRUSTED_PROXIES=127.0.0.1` (else every request
    is one client, 127.0.0.1, as it is for an attacker without a proxy of ours)."""
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def post_one(url: str, case_id: str, key: str | None, who: str) -> str:
    action = {"case_id": case_id, "type": "letter", "action_id": str(uuid.uuid4())}
    headers = {"X-Forwarded-For": who, **({"X-API-Key": key} if key else {})}
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(f"{url}/v1/actions", json=action, headers=headers)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return f"{answer.status_code} in {(time.perf_counter() - started) * 1000:.0f} ms"


async def open_case(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        cases = (await client.get(f"{url}/v1/cases")).json()["cases"]
    return str(next(c["id"] for c in cases if c["status"] == "open"))


async def slow_bodies(ep: Endpoints, count: int, hold_s: float) -> None:
    host, port = host_port(ep.intake)
    case_id = await open_case(ep.intake)
    before, floor = rss_mb("intake"), await sample_healthz(ep.intake, 20)
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def one(i: int) -> Held | None:
        async with gate:
            return await hold_slow_body(host, port, address(i))

    async with temporary_keys("probe", {"writer": {Scope.ACTIONS_WRITE}}) as keys:
        started = time.monotonic()
        held = [h for h in await asyncio.gather(*(one(i) for i in range(count))) if h]
        opened_in = time.monotonic() - started
        during = rss_mb("intake")
        latencies = await sample_healthz(ep.intake, 20)
        keyed = await post_one(ep.intake, case_id, keys["writer"], address(count + 1))
        anonymous = await post_one(ep.intake, case_id, None, address(count + 2))
        ends = await asyncio.gather(*(how_it_ended(h, started + hold_s) for h in held))
        after = await post_one(ep.intake, case_id, None, address(count + 3))
    statuses = Counter(status for status, _ in ends)
    # When the server ended them (a 503 came at once; it was only read here later).
    closed_at = [at - started for status, at in ends if status not in ("open", "503")]
    print(f"slow bodies: {len(held)} of {count} connections opened in {opened_in:.1f} s")
    print("  (each: POST /v1/actions, Content-Length: 200, one byte of body sent)")
    print(f"  intake RSS: {before:.0f} MB before, {during:.0f} MB while held")
    print(f"  /healthz before: {floor.line()}")
    print(f"  /healthz while held: {latencies.line()}")
    print(f"  while held: keyed POST {keyed}; anonymous POST {anonymous}")
    print(f"  how they ended within {hold_s:.0f} s: {dict(statuses)}")
    if closed_at:
        print(f"  ended between {min(closed_at):.1f} s and {max(closed_at):.1f} s after start")
    print(f"  anonymous POST afterwards: {after}")


async def streams(ep: Endpoints, count: int, per_address: int, hold_s: float) -> None:
    host, port = host_port(ep.counter)
    before, floor = rss_mb("counter"), await sample_healthz(ep.counter, 20)
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def one(i: int) -> tuple[int, Held | None]:
        async with gate:
            return await open_stream(host, port, address(i // per_address))

    opened = await asyncio.gather(*(one(i) for i in range(count)))
    statuses = Counter(status for status, _ in opened)
    live = [h for _, h in opened if h is not None]
    stop = asyncio.Event()
    changing = asyncio.create_task(change_totals(ep.intake, await open_case(ep.intake), stop))
    try:
        await asyncio.sleep(min(hold_s, 2.0))  # events flow to every stream meanwhile
        during = rss_mb("counter")
        latencies = await sample_healthz(ep.counter, 20)
    finally:
        stop.set()
        await changing
        for held in live:
            held.close()
    print(f"streams: {count} attempts on /v1/totals/stream, {per_address} per address")
    print(f"  answers: {dict(statuses)}")
    print(f"  counter RSS: {before:.0f} MB before, {during:.0f} MB with {len(live)} open")
    print(f"  /healthz before: {floor.line()}")
    print(f"  /healthz with them open, totals changing: {latencies.line()}")
    print(f"  events the open streams received: {sum(h.events for h in live)}")


async def change_totals(intake: str, case_id: str, stop: asyncio.Event) -> None:
    """A letter every 0.2 s (from addresses of their own), so that totals change."""
    i = 0
    while not stop.is_set():
        await post_one(intake, case_id, None, address(1_000_000 + i))
        i += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.probe", description=__doc__)
    parser.add_argument("scenario", choices=["slow-bodies", "streams", "batches", "all"])
    parser.add_argument("--connections", type=int, default=1_000, help="slow bodies held")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to wait for them")
    parser.add_argument("--streams", type=int, default=2_500, help="stream attempts")
    parser.add_argument("--per-address", type=int, default=10, help="streams per address")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-bytes", type=int, default=4 * 2**20 - 4_096)
    args = parser.parse_args(argv)
    ep = Endpoints.from_env()
    scenario = args.scenario
    if scenario in ("slow-bodies", "all"):
        asyncio.run(slow_bodies(ep, min(args.connections, MAX_CONNECTIONS), args.hold))
    if scenario in ("streams", "all"):
        count = min(args.streams, MAX_CONNECTIONS)
        asyncio.run(streams(ep, count, max(1, args.per_address), args.hold))
    if scenario in ("batches", "all"):
        case_id = asyncio.run(open_case(ep.intake))
        size = min(args.batch_bytes, 4 * 2**20)
        asyncio.run(batches(ep, case_id, min(args.batches, 100), size))


if __name__ == "__main__":
    main()
