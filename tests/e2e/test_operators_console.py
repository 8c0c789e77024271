"""The operators' console (/consoles/plume.html, served by the stack's Prometheus) in a
real headless Chromium: after traffic every graph has drawn data, the live figures are
filled in, and a screenshot lands in $PLUME_HOME/screenshots/operators-console.png."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import chromium, needs_chromium, save_screenshot
from tests.conftest import Stack
from tests.e2e.test_dashboards import (  # noqa: F401
    DASHBOARDS,
    PROMETHEUS_URL,
    api_key,
    send_actions,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, needs_chromium()]
CONSOLE = f"{PROMETHEUS_URL}/consoles/plume.html"
# The console's time control reads its range from the URL: the last 10 minutes, where this
# test's traffic is (1 hour by default).
LAST_10_MINUTES = '#pctc{"duration":600,"endTime":0}'
GRAPHS = ("actions", "totals", "freshness", "lag", "refused", "dossiers")
DATA_DEADLINE_S = 150.0  # 5 s scrapes, 15 s rule runs, 1-minute rates; see test_dashboards
TRICKLE_EVERY_S = 5.0
# Per graph: its node, the points it drew that are not gaps, its series, any error shown.
GRAPH_STATE_JS = """
return (window.plumeGraphs || []).map(function (g) {
  var drawn = g.rickshawGraph;
  var error = g.graphTd.querySelector('.prom_graph_error');
  return {
    node: g.params.node.id,
    points: drawn ? drawn.series.reduce(function (n, s) {
      return n + s.data.filter(function (p) { return p.y !== null; }).length; }, 0) : 0,
    series: drawn ? drawn.series.map(function (s) { return s.name; }) : [],
    error: error ? error.textContent : null,
  };
});
"""


def test_prometheus_serves_the_console_page() -> None:
    page = httpx.get(CONSOLE, timeout=10.0)
    assert page.status_code == 200, page.text[:500]
    assert "plume — campaign day" in page.text
    assert "error executing template" not in page.text


def test_the_dashboards_milestone_annotations_query_is_valid() -> None:
    for path in DASHBOARDS.rglob("*.json"):
        for annotation in json.loads(path.read_text())["annotations"]["list"]:
            answer = httpx.get(
                f"{PROMETHEUS_URL}/api/v1/query", params={"query": annotation["expr"]}, timeout=10
            ).json()
            assert answer["status"] == "success", (path.name, annotation["name"], answer)


async def test_the_console_graphs_have_data_after_traffic(
    stack: Stack,
    api_key: str,  # noqa: F811
) -> None:
    async with httpx.AsyncClient(timeout=10.0) as intake:
        with chromium() as driver:
            state, figures = await console_drawn_after_traffic(driver, intake, stack, api_key)
            by_node = {g["node"]: g for g in state}
            assert "p99" in by_node["freshness"]["series"]
            assert any(name.startswith("signature via") for name in by_node["actions"]["series"])
            assert any("dossiers" in name for name in by_node["dossiers"]["series"])
            for node in GRAPHS:
                lines = driver.find_elements(By.CSS_SELECTOR, f"#{node} svg path")
                assert any(any(c.isdigit() for c in p.get_attribute("d") or "") for p in lines)
                assert driver.find_elements(By.CSS_SELECTOR, f"#{node} .rickshaw_legend li")
            assert figures["Targets up"] != "-", figures
            shot = save_screenshot(driver, "operators-console")
            assert shot.stat().st_size > 10_000


Drawn = tuple[list[dict[str, Any]], dict[str, str]]


async def console_drawn_after_traffic(
    driver: WebDriver, intake: httpx.AsyncClient, stack: Stack, key: str
) -> Drawn:
    """The graphs' state and the live figures once each graph has drawn data and the
    accepted rate shows the traffic sent; more traffic and a reload while not."""
    await send_actions(intake, stack, key, 5)
    last_sent = time.monotonic()
    driver.get(CONSOLE + LAST_10_MINUTES)

    def all_drawn(drawn: Drawn) -> bool:
        state, figures = drawn
        return (
            [g["node"] for g in state] == list(GRAPHS)
            and all(g["points"] > 0 for g in state)
            and figures.get("Accepted", "-") not in ("-", "0/s")  # this test's own traffic
        )

    async def graphs() -> Drawn:
        nonlocal last_sent
        drawn = (driver.execute_script(GRAPH_STATE_JS), live_figures(driver))
        if not all_drawn(drawn) and time.monotonic() - last_sent >= TRICKLE_EVERY_S:
            await send_actions(intake, stack, key, 2)
            last_sent = time.monotonic()
            driver.refresh()
        return drawn

    try:
        return await wait_until(graphs, all_drawn, within=DATA_DEADLINE_S, every=1.0)
    except TimeoutError as exc:
        save_screenshot(driver, "operators-console-failed")
        pytest.fail(f"console graphs without data after {DATA_DEADLINE_S:.0f}s: {exc}")


def live_figures(driver: WebDriver) -> dict[str, str]:
    """The right-hand table's "name: value" rows."""
    figures = {}
    for row in driver.find_elements(By.CSS_SELECTOR, ".prom_console_rhs tr"):
        cells = row.find_elements(By.CSS_SELECTOR, "td")
        if len(cells) == 2:
            figures[cells[0].text] = cells[1].text
    return figures
