"""One client must never stop a service (issue 9), on each of the three running services:
requests that stall are cut off, headers past the limits are 431 before they are gathered,
and every error, the framework's own included, is problem+json."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx
import pytest

from shared.settings import ServiceSettings
from tests.conftest import Stack

pytestmark = pytest.mark.e2e
SERVICES = ("intake", "counter", "delivery")
DEFAULTS = ServiceSettings()
# Long enough for a timeout of each kind to pass, on a busy machine.
CUT_OFF_WITHIN = DEFAULTS.http_header_timeout_s + DEFAULTS.http_body_timeout_s + 10
# A POST each service has (intake reads the body; the others answer before it comes).
POSTS = {"intake": "/v1/actions", "counter": "/v1/totals", "delivery": "/v1/cases/x/dossiers"}
PROBLEM = b"content-type: application/problem+json"


async def exchange(url: str, sent: bytes, within: float) -> bytes | None:
    """Send `sent` on a new connection and read until the server hangs up; None if it
    has not within `within` seconds."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(sent)
        await writer.drain()
        async with asyncio.timeout(within):
            return await reader.read()
    except TimeoutError:
        return None
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def test_requests_that_stall_are_cut_off_on_every_service(stack: Stack) -> None:
    """An idle connection, half a request head, a body announced and never sent: each
    is closed; what can still be answered gets 408. (Before: held open for ever.)"""

    async def stalls(service: str) -> list[tuple[str, bytes | None]]:
        url = stack.service_urls[service]
        head = f"POST {POSTS[service]} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        cases = {
            "idle": b"",
            "half a head": head.encode(),
            "a body that stops": (head + "Content-Length: 200\r\n\r\n{").encode(),
        }
        ends = await asyncio.gather(
            *(exchange(url, sent, CUT_OFF_WITHIN) for sent in cases.values())
        )
        return [(f"{service}: {case}", end) for case, end in zip(cases, ends, strict=True)]

    results = [r for rs in await asyncio.gather(*(stalls(s) for s in SERVICES)) for r in rs]
    still_open = [case for case, end in results if end is None]
    assert still_open == []
    for case, end in results:
        assert end is not None
        if case.endswith("idle"):
            assert end == b"", case  # nothing asked, nothing answered
        elif case.endswith("half a head") or case == "intake: a body that stops":
            assert end.startswith(b"HTTP/1.1 408 ") and PROBLEM in end, (case, end)
        else:  # answered before the body (405, 401), then cut off for the missing body
            assert PROBLEM in end, (case, end)


@pytest.mark.parametrize("service", SERVICES)
async def test_a_header_past_the_size_limit_is_431_before_it_is_gathered(
    stack: Stack, service: str
) -> None:
    """16 MiB of one header, read while it is sent (as a browser reads): the answer comes
    after the first 32 KiB, and the service answers others meanwhile and after."""
    url = stack.service_urls[service]
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)

    async def send_huge_header() -> None:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        with contextlib.suppress(ConnectionError):  # it hangs up while we still send
            for _ in range(256):
                writer.write(b"a" * 65_536)
                await writer.drain()

    sending = asyncio.create_task(send_huge_header())
    answer = b""
    try:
        async with asyncio.timeout(30):
            while b"}" not in answer and (chunk := await reader.read(65_536)):
                answer += chunk
    finally:
        sending.cancel()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 ") and PROBLEM in answer, answer[:300]
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{url}/healthz")).status_code == 200


@pytest.mark.parametrize("service", SERVICES)
async def test_too_many_headers_is_431(stack: Stack, service: str) -> None:
    headers = b"".join(b"X-Many-%d: a\r\n" % i for i in range(DEFAULTS.http_max_headers + 1))
    sent = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    answer = await exchange(stack.service_urls[service], sent, within=30)
    assert answer is not None and answer.startswith(b"HTTP/1.1 431 "), answer
    assert PROBLEM in answer


@pytest.mark.parametrize("service", SERVICES)
async def test_unknown_routes_and_methods_are_problem_json_405_with_allow(
    stack: Stack, service: str
) -> None:
    async with httpx.AsyncClient(base_url=stack.service_urls[service], timeout=10) as client:
        unknown = await client.get("/no-such-route")
        wrong_method = await client.delete("/healthz")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["status"] == 404
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert "GET" in wrong_method.headers["allow"]
