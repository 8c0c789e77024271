"""The counter's per-case stream and its reads open to any origin (contract v2,
"Browsers"), served by `plume serve counter`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import CounterProcess, produce
from tests.integration.counter.test_read_api import CATALOGUE_CASE, read_events
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
PAGE = "https://section.example.org"


@pytest.fixture
async def counter(tmp_path: Path) -> AsyncIterator[CounterProcess]:
    settings = isolated_settings(stream_interval_s=0.2)
    await create_topics(settings)
    process = await CounterProcess(settings, tmp_path).start()
    yield process
    process.stop()
    await clean_up(settings)


async def test_first_event_is_the_current_totals_zero_included(counter: CounterProcess) -> None:
    events: list[dict[str, object]] = []
    async with (
        httpx.AsyncClient(base_url=counter.url, timeout=None) as client,
        client.stream(
            "GET", f"/v1/cases/{CATALOGUE_CASE}/totals/stream", headers={"Origin": PAGE}
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["access-control-allow-origin"] == "*"
        reader = asyncio.create_task(read_events(response, events))
        try:
            await wait_until(lambda: _count(events), lambda n: n >= 1, within=10)
        finally:
            reader.cancel()
    assert events[0]["case_id"] == CATALOGUE_CASE
    assert events[0]["total"] == 0


async def test_the_case_stream_carries_only_its_case(counter: CounterProcess) -> None:
    await produce(counter.settings, [action("case-p")])
    events: list[dict[str, object]] = []
    async with httpx.AsyncClient(base_url=counter.url, timeout=None) as client:
        await wait_until(
            lambda: client.get("/v1/cases/case-p/totals"), lambda r: r.status_code == 200
        )
        async with client.stream("GET", "/v1/cases/case-p/totals/stream") as response:
            reader = asyncio.create_task(read_events(response, events))
            try:
                await wait_until(lambda: _count(events), lambda n: n >= 1, within=10)
                await produce(counter.settings, [action("case-q"), action("case-p")])
                await wait_until(lambda: _last_total(events), lambda t: t == 2, within=15)
            finally:
                reader.cancel()
        unknown = await client.get("/v1/cases/no-such-case/totals/stream")
    assert events[0]["total"] == 1
    assert {e["case_id"] for e in events} == {"case-p"}
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_public_reads_answer_any_origin(counter: CounterProcess) -> None:
    async with httpx.AsyncClient(base_url=counter.url, timeout=5.0) as client:
        totals = await client.get("/v1/totals", headers={"Origin": PAGE})
        preflight = await client.options(
            f"/v1/cases/{CATALOGUE_CASE}/totals",
            headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"},
        )
    assert totals.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


async def _count(events: list[dict[str, object]]) -> int:
    return len(events)


async def _last_total(events: list[dict[str, object]]) -> object:
    return events[-1]["total"] if events else None
