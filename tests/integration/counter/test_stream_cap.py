"""Live streams are capped in total and per client address (issue 9: 19,693 streams from
one client took the counter from 65 to 677 MB); past a cap, 503 problem+json with
Retry-After, and a closed stream gives its place back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import CounterProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[CounterProcess]:
    # 127.0.0.1 stands for a load balancer: X-Forwarded-For names each stream's client.
    settings = isolated_settings(
        stream_max_total=3, stream_max_per_client=2, trusted_proxies="127.0.0.1"
    )
    await create_topics(settings)
    process = await CounterProcess(settings, tmp_path).start()
    yield process
    process.stop()
    await clean_up(settings)


class Streams:
    """Streams opened by one client object, each from the address it claims."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.open: list[httpx.Response] = []

    async def open_from(self, address: str) -> httpx.Response:
        request = self.client.build_request(
            "GET", "/v1/totals/stream", headers={"X-Forwarded-For": address}
        )
        response = await self.client.send(request, stream=True)
        self.open.append(response)
        return response

    async def close_all(self) -> None:
        for response in self.open:
            await response.aclose()


def refused(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers["content-type"] == "application/problem+json"
        and int(response.headers["retry-after"]) > 0
    )


async def test_streams_are_capped_in_total_and_per_client_address(
    capped: CounterProcess,
) -> None:
    async with httpx.AsyncClient(base_url=capped.url, timeout=10) as client:
        streams = Streams(client)
        try:
            first, second = [await streams.open_from("10.5.0.1") for _ in range(2)]
            assert (first.status_code, second.status_code) == (200, 200)
            assert refused(await streams.open_from("10.5.0.1"))  # its address's cap: 2
            assert (await streams.open_from("10.5.0.2")).status_code == 200
            assert refused(await streams.open_from("10.5.0.3"))  # the total cap: 3
            assert (await client.get("/healthz")).status_code == 200

            await first.aclose()  # the server sees it go and gives its place back

            async def reopen() -> int:
                response = await streams.open_from("10.5.0.1")
                return response.status_code

            await wait_until(reopen, lambda status: status == 200, within=10)
        finally:
            await streams.close_all()
