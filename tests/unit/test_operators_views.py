"""The operators' views stay in step with the rules and metrics they read: the console page
(deploy/prometheus/consoles/plume.html) and the Grafana dashboards' annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / "deploy" / "prometheus" / "consoles" / "plume.html"
RULES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").rglob("*.json"))
RECORDED_NAME = re.compile(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b")
RAW_METRIC = re.compile(r"(?<![:\w])plume_[a-z0-9_]+")  # not inside a recorded name


def recorded() -> set[str]:
    return {
        rule["record"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def exposed_metrics() -> set[str]:
    """Every metric name the Python code declares (prometheus_client adds _total etc.)."""
    names = set()
    for path in [*REPO.glob("services/**/*.py"), *REPO.glob("shared/**/*.py")]:
        names |= set(re.findall(r'"(plume_[a-z0-9_]+)"', path.read_text()))
    return names


def known(name: str, metrics: set[str]) -> bool:
    return any(name == m or name.startswith(f"{m}_") for m in metrics)


def test_the_console_reads_only_series_that_exist() -> None:
    text = CONSOLE.read_text()
    assert set(RECORDED_NAME.findall(text)) <= recorded()
    metrics = exposed_metrics()
    unknown = {n for n in RAW_METRIC.findall(text) if not known(n, metrics)}
    assert not unknown, f"the console reads metrics nothing exposes: {sorted(unknown)}"


def test_the_console_uses_the_debian_console_libraries() -> None:
    text = CONSOLE.read_text()
    for template in ("prom_console_head", "prom_right_table_head", "prom_content_head"):
        assert f'template "{template}"' in text


def test_every_dashboard_marks_milestones_from_the_counters_metric() -> None:
    sources = yaml.safe_load(
        (REPO / "deploy" / "grafana" / "datasources" / "prometheus.yml").read_text()
    )
    uids = {source["uid"] for source in sources["datasources"]}
    metrics = exposed_metrics()
    for path in DASHBOARDS:
        annotations = json.loads(path.read_text())["annotations"]["list"]
        (milestones,) = [a for a in annotations if a["name"] == "Milestones"]
        assert milestones["datasource"]["uid"] in uids
        assert all(known(n, metrics) for n in RAW_METRIC.findall(milestones["expr"]))
        assert "plume_counter_milestones_published_total" in milestones["expr"]
