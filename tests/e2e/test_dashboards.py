"""Every panel of the Grafana dashboards (deploy/grafana/dashboards/) runs against the real
Prometheus scraping the running stack: each query is valid, and each shows data once
actions flow through intake."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml

from shared import apikeys
from shared.db import create_pool
from tests.conftest import Stack
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
PROMETHEUS_URL = f"http://127.0.0.1:{os.environ.get('PLUME_PROMETHEUS_PORT', '9090')}"
RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules"
CASE = "sonia-dahmani"
COUNTRIES = ("FR", "SN", "TN", "BR")
# Scrapes every 5 s, rules every 15 s, 1-minute rate windows: data shows within a minute.
DATA_DEADLINE_S = 120.0
POLL_EVERY_S = 0.5
TRICKLE_EVERY_S = 5.0  # a few actions every scrape keep 1-minute rates and quantiles alive
TRICKLE_ACTIONS = 2


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} [{self.ref_id}]: {self.expr}"


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # panels folded into a row


def panel_queries() -> list[PanelQuery]:
    queries = []
    for path in sorted(DASHBOARDS.rglob("*.json")):
        board = json.loads(path.read_text())
        for panel in _panels(board["panels"]):
            for target in panel.get("targets", []):
                queries.append(
                    PanelQuery(board["title"], panel["title"], target["refId"], target["expr"])
                )
    return queries


QUERIES = panel_queries()


def rule_groups() -> set[str]:
    return {
        group["name"]
        for path in RULES.glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
    }


async def query(client: httpx.AsyncClient, expr: str) -> dict[str, Any]:
    answer = await client.get(f"{PROMETHEUS_URL}/api/v1/query", params={"query": expr})
    body: dict[str, Any] = answer.json()
    return body


def has_data(body: dict[str, Any]) -> bool:
    """A number to show: at least one sample that is not NaN (0 counts, NaN does not)."""
    data = body.get("data", {})
    if data.get("resultType") == "scalar":
        return not math.isnan(float(data["result"][1]))
    return any(not math.isnan(float(item["value"][1])) for item in data.get("result", []))


@pytest.fixture
async def prometheus() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        try:
            ready = await client.get(f"{PROMETHEUS_URL}/-/ready")
        except httpx.HTTPError as exc:
            pytest.fail(f"Prometheus does not answer at {PROMETHEUS_URL}: {exc!r}")
        assert ready.status_code == 200, ready.text
        yield client


@pytest.fixture
async def api_key(stack: Stack) -> AsyncIterator[str]:
    """A key without rate limit, so this test's traffic never meets the per-address limit
    that other tests' anonymous requests share."""
    name = f"test-dashboards-{uuid4().hex[:8]}"
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        async with pool.acquire() as conn:
            secret = await apikeys.create_key(conn, name, {apikeys.Scope.ACTIONS_WRITE}, 0)
        yield secret
        async with pool.acquire() as conn:
            await apikeys.revoke_key(conn, name)
    finally:
        await pool.close()


def test_the_dashboards_have_panels() -> None:
    assert {q.dashboard for q in QUERIES} >= {"plume — campaign", "plume — services"}
    assert len(QUERIES) >= 20


async def test_prometheus_loaded_the_rules(prometheus: httpx.AsyncClient) -> None:
    answer = await prometheus.get(f"{PROMETHEUS_URL}/api/v1/rules")
    loaded = {group["name"] for group in answer.json()["data"]["groups"]}
    missing = rule_groups() - loaded
    assert not missing, (
        f"Prometheus at {PROMETHEUS_URL} lacks the rule groups {sorted(missing)}: "
        "its configuration must list deploy/prometheus/rules/*.yml under rule_files"
    )


@pytest.mark.parametrize("panel_query", QUERIES, ids=str)
async def test_panel_query_is_valid(prometheus: httpx.AsyncClient, panel_query: PanelQuery) -> None:
    body = await query(prometheus, panel_query.expr)
    assert body.get("status") == "success", f"{panel_query}\n{body}"


async def send_actions(client: httpx.AsyncClient, stack: Stack, key: str, count: int) -> None:
    """Fresh signatures on the case, and one action for a case that does not exist, so
    both the accepted and the refused panels have something to show."""
    for n in range(count):
        answer = await client.post(
            f"{stack.intake_url}/v1/actions",
            headers={"X-API-Key": key},
            json={
                "case_id": CASE,
                "type": "signature",
                "supporter": {
                    "name": "Dashboard Probe",
                    "email": f"dashboards-{uuid4().hex}@example.org",
                    "country": COUNTRIES[n % len(COUNTRIES)],
                },
                "consent": {"share_name_with_target": True},
            },
        )
        assert answer.status_code == 202, answer.text
    refused = await client.post(
        f"{stack.intake_url}/v1/actions",
        headers={"X-API-Key": key},
        json={"case_id": f"no-such-case-{uuid4().hex[:8]}", "type": "letter"},
    )
    assert refused.status_code == 422, refused.text


async def test_every_panel_shows_data_after_traffic(
    prometheus: httpx.AsyncClient, stack: Stack, api_key: str
) -> None:
    waiting = {str(q): q for q in QUERIES}

    async with httpx.AsyncClient(timeout=10.0) as intake:
        await send_actions(intake, stack, api_key, 5)
        last_sent = time.monotonic()

        async def panels_still_empty() -> list[str]:
            nonlocal last_sent
            if time.monotonic() - last_sent >= TRICKLE_EVERY_S:
                await send_actions(intake, stack, api_key, TRICKLE_ACTIONS)
                last_sent = time.monotonic()
            for name, panel_query in list(waiting.items()):
                if has_data(await query(prometheus, panel_query.expr)):
                    del waiting[name]
            return sorted(waiting)

        try:
            await wait_until(
                panels_still_empty, lambda empty: not empty, DATA_DEADLINE_S, POLL_EVERY_S
            )
        except TimeoutError:
            pytest.fail(
                f"{len(waiting)} panel queries showed no data within {DATA_DEADLINE_S:.0f}s "
                "of traffic:\n" + "\n".join(sorted(waiting))
            )
