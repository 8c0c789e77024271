"""The counter's read API as the contract states it (v1 and v2), served by `plume serve
counter`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from shared.contracts.actions import ActionType, Channel
from tests.integration.counter.conftest import clean_up, create_topics, isolated_settings
from tests.integration.counter.helpers import CounterProcess, produce
from tests.unit.counter.builders import action
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
CATALOGUE_CASE = "sonia-dahmani"  # of the default campaign `make up` loads
PAGE = "https://section.example.org"  # a web page on another origin (contract v2, "Browsers")


@pytest.fixture
async def counter(tmp_path: Path) -> AsyncIterator[CounterProcess]:
    settings = isolated_settings(stream_interval_s=0.5)
    await create_topics(settings)
    process = await CounterProcess(settings, tmp_path).start()
    yield process
    process.stop()
    await clean_up(settings)


async def totals_of(client: httpx.AsyncClient, case_id: str) -> httpx.Response:
    return await client.get(f"/v1/cases/{case_id}/totals")


async def test_case_totals_as_the_contract_states(counter: CounterProcess) -> None:
    await produce(
        counter.settings,
        [
            action("case-r", ActionType.SIGNATURE, supporter_key="k1", country="FR"),
            action(
                "case-r", ActionType.LETTER, count=300, channel=Channel.EVENT, source="amnesty-sn"
            ),
        ],
    )
    async with httpx.AsyncClient(base_url=counter.url, timeout=3.0) as client:
        answer = await wait_until(
            lambda: totals_of(client, "case-r"), lambda r: r.status_code == 200
        )
        body = answer.json()
        assert set(body) == {
            "case_id",
            "total",
            "by_type",
            "by_country",
            "by_channel",
            "by_source",
            "updated_at",
        }
        assert body["total"] == 301
        assert body["by_type"] == {"signature": 1, "letter": 300}
        assert body["by_country"] == {"FR": 1, "ZZ": 300}
        assert body["by_channel"] == {"web": 1, "event": 300}
        assert body["by_source"] == {"web": 1, "amnesty-sn": 300}
        assert body["updated_at"].endswith("Z")
        assert answer.headers["cache-control"] == "public, max-age=1"

        again = await client.get(
            "/v1/cases/case-r/totals", headers={"If-None-Match": answer.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b"")

        unknown = await totals_of(client, "no-such-case")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"

        zero = (await totals_of(client, CATALOGUE_CASE)).json()
        assert (zero["total"], zero["by_type"]) == (0, {})

        everything = (await client.get("/v1/totals")).json()
        by_case = {c["case_id"]: c["total"] for c in everything["cases"]}
        assert by_case["case-r"] == 301 and by_case[CATALOGUE_CASE] == 0
        assert everything["total"] == sum(by_case.values())

        history = (await client.get("/v1/cases/case-r/history")).json()
        assert [p["count"] for p in history["hours"]] == [301]
        assert history["hours"][0]["by_source"] == {"web": 1, "amnesty-sn": 300}


async def read_events(response: httpx.Response, into: list[dict[str, object]]) -> None:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            into.append(orjson.loads(line[6:]))


async def test_stream_sends_changes_coalesced_per_case(counter: CounterProcess) -> None:
    events: list[dict[str, object]] = []
    async with (
        httpx.AsyncClient(base_url=counter.url, timeout=None) as client,
        client.stream("GET", "/v1/totals/stream") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(read_events(response, events))
        started = time.monotonic()
        try:
            for _ in range(20):  # 20 separate commits in quick succession
                await produce(counter.settings, [action("case-s")])
            await wait_until(
                lambda: _latest(events, "case-s"), lambda total: total == 20, within=15
            )
        finally:
            reader.cancel()
        elapsed = time.monotonic() - started
    changes = [e for e in events if e["case_id"] == "case-s"]
    # at most one event per case per 0.5 s interval (+ the first and the last)
    assert len(changes) <= elapsed / 0.5 + 2, f"{len(changes)} events in {elapsed:.1f}s"


async def _latest(events: list[dict[str, object]], case_id: str) -> object:
    mine = [e["total"] for e in events if e["case_id"] == case_id]
    return mine[-1] if mine else None


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
