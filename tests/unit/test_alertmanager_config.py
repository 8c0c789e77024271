"""Alertmanager's configuration: `amtool check-config` accepts it as shipped and with the
documented email receiver switched on; Prometheus (local and compose) sends it the alerts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import IN_CI

pytestmark = pytest.mark.unit
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
AMTOOL = shutil.which("amtool")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None and not IN_CI,
    reason="amtool is not installed (`make install` installs prometheus-alertmanager)",
)


def amtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run(
        [AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=60
    )


def with_email_switched_on(text: str) -> str:
    """The file as a team following its comments would make it: the commented `routes:` and
    `- name: operators-email` blocks uncommented."""
    lines = text.splitlines()
    out = []
    uncommenting = False
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("# routes:", "# - name: operators-email")):
            uncommenting = True
        elif not stripped.startswith("#") or not stripped[1:].strip():
            uncommenting = False
        out.append(re.sub(r"^(\s*)# ", r"\1", line, count=1) if uncommenting else line)
    return "\n".join(out) + "\n"


@needs_amtool
def test_amtool_accepts_the_shipped_config() -> None:
    checked = amtool_check(CONFIG)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@needs_amtool
def test_amtool_accepts_the_documented_email_receiver(tmp_path: Path) -> None:
    switched = tmp_path / "alertmanager.yml"
    switched.write_text(with_email_switched_on(CONFIG.read_text()))
    config = yaml.safe_load(switched.read_text())
    assert "operators-email" in {r["name"] for r in config["receivers"]}
    assert config["route"]["routes"][0]["receiver"] == "operators-email"
    checked = amtool_check(switched)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_default_route_goes_to_a_webhook_that_hears_of_resolutions() -> None:
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    default = receivers[config["route"]["receiver"]]
    (hook,) = default["webhook_configs"]
    assert hook["url"].startswith("http://127.0.0.1:") and hook["send_resolved"] is True


@pytest.mark.parametrize(
    ("config", "target"),
    [("prometheus.yml", "127.0.0.1:9193"), ("prometheus.compose.yml", "alertmanager:9093")],
)
def test_prometheus_sends_alerts_to_alertmanager(config: str, target: str) -> None:
    loaded = yaml.safe_load((DEPLOY / "prometheus" / config).read_text())
    (alertmanagers,) = loaded["alerting"]["alertmanagers"]
    assert alertmanagers["static_configs"][0]["targets"] == [target]


def test_compose_runs_alertmanager_on_the_contract_port_with_this_config() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["alertmanager"]
    assert "127.0.0.1:9193:9093" in service["ports"]
    assert any(v.startswith("./alertmanager/alertmanager.yml:") for v in service["volumes"])
