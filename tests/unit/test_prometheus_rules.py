"""The shipped alert and recording rules are valid, every alert has a unit test that fires it
and one that keeps it quiet, and `promtool test rules` passes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools import IN_CI

pytestmark = pytest.mark.unit

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
# Recording rules are named level:metric:operations; raw metrics never hold a colon.
RECORDED_NAME = re.compile(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not IN_CI,
    reason="promtool is not installed (`make install` installs prometheus)",
)


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def _alert_rules() -> dict[str, dict[str, object]]:
    alerts: dict[str, dict[str, object]] = {}
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    alerts[rule["alert"]] = rule
    return alerts


def _alert_cases() -> list[tuple[str, bool]]:
    """(alert name, whether it was expected to fire) for every alert_rule_test case."""
    cases = []
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.append((case["alertname"], bool(case.get("exp_alerts"))))
    return cases


def test_the_rules_and_their_tests_are_shipped() -> None:
    assert RULES, "no rule file in deploy/prometheus/rules"
    assert RULE_TESTS, "no promtool test in deploy/prometheus/tests"


def test_every_alert_has_a_for_a_severity_and_says_what_to_do() -> None:
    for name, rule in _alert_rules().items():
        assert "for" in rule, name
        labels = rule.get("labels")
        assert isinstance(labels, dict) and labels.get("severity") in {"critical", "warning"}
        annotations = rule.get("annotations")
        assert isinstance(annotations, dict), name
        assert annotations.get("summary"), name
        assert "Action:" in str(annotations.get("description")), name


def test_every_alert_is_tested_firing_and_staying_quiet() -> None:
    cases = _alert_cases()
    for name in _alert_rules():
        assert (name, True) in cases, f"no promtool test makes {name} fire"
        assert (name, False) in cases, f"no promtool test keeps {name} quiet"


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    checked = _promtool("check", "rules", *RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    tested = _promtool("test", "rules", *RULE_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "FAILED" not in tested.stdout + tested.stderr


@needs_promtool
def test_the_local_prometheus_configuration_loads_the_rules() -> None:
    checked = _promtool("check", "config", PROMETHEUS / "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for path in RULES:
        assert f"Checking {path}" in checked.stdout, checked.stdout


@needs_promtool
def test_the_copy_make_up_writes_under_plume_home_loads_the_rules(tmp_path: Path) -> None:
    """deploy/local/prometheus.sh runs Prometheus on a copy in .plume/ (ports rewritten)."""
    repo = tmp_path / "repo"
    shutil.copytree(PROMETHEUS / "rules", repo / "deploy" / "prometheus" / "rules")
    (repo / ".plume").mkdir()
    copy = repo / ".plume" / "prometheus.yml"
    shutil.copy(PROMETHEUS / "prometheus.yml", copy)
    checked = _promtool("check", "config", copy)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for path in RULES:
        assert f"{path.name}\n  SUCCESS" in checked.stdout, checked.stdout


def _dashboard_exprs() -> list[str]:
    grafana = PROMETHEUS.parent / "grafana" / "dashboards"
    exprs = []
    for path in sorted(grafana.rglob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs += [target["expr"] for target in panel.get("targets", [])]
    return exprs


def test_the_dashboards_read_only_recorded_series_that_a_rule_records() -> None:
    recorded = {
        rule["record"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    exprs = _dashboard_exprs()
    assert exprs, "no panel query in deploy/grafana/dashboards"
    used = {name for expr in exprs for name in RECORDED_NAME.findall(expr)}
    assert used, "the dashboards use no recording rule"
    assert used <= recorded, f"recorded by no rule: {sorted(used - recorded)}"


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    grafana = PROMETHEUS.parent / "grafana"
    sources = yaml.safe_load((grafana / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in sources["datasources"]}
    for path in sorted((grafana / "dashboards").rglob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in [panel, *panel.get("targets", [])]:
                assert target["datasource"]["uid"] in uids, (path.name, panel["title"])
