"""Alerts reach someone: a real alert travels Prometheus -> Alertmanager -> webhook.

A throwaway Prometheus and Alertmanager of the test's own (free ports, temporary folders)
keep it fast and leave the stack alone: Prometheus scrapes a tiny exporter the test runs
and evaluates a drill rule with a short `for:`; Alertmanager runs the shipped
deploy/alertmanager/alertmanager.yml, rendered by `make up`'s own script with the webhook
URL pointing at a receiver the test runs. The stack's own wiring is checked too."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.throwaway import free_port, wait_for_port
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
DELIVERY_DEADLINE_S = 90.0  # 1 s scrapes and rule runs, `for: 2s`, the shipped group_wait
DRILL_RULE = """\
groups:
  - name: drill
    rules:
      - alert: PlumeAlertDrill
        expr: plume_alert_drill > 0
        for: 2s
        labels:
          severity: warning
        annotations:
          summary: "Alert delivery drill"
          description: "Raised by tests/e2e/test_alert_delivery.py. Action: none."
"""


class Drill:
    """One HTTP server on a free port: GET /metrics exposes plume_alert_drill (the test
    raises it), POST is the webhook receiver and queues each notification's JSON."""

    def __init__(self) -> None:
        self.level = 0
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        drill = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(f"plume_alert_drill {drill.level}\n".encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                drill.received.put(json.loads(self.rfile.read(length)))
                self._answer(b"")

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # keep pytest's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def firing_alerts(self) -> list[dict[str, Any]]:
        """Every firing drill alert notified so far."""
        found = []
        while not self.received.empty():
            notification = self.received.get()
            found += [
                a
                for a in notification["alerts"]
                if a["labels"]["alertname"] == "PlumeAlertDrill" and a["status"] == "firing"
            ]
        return found


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def drill() -> Iterator[Drill]:
    running = Drill()
    yield running
    running.server.shutdown()


@pytest.fixture
def alerting_pair(drill: Drill) -> Iterator[Path]:
    """Alertmanager with the shipped config posting to `drill`, and a Prometheus that
    scrapes `drill` and sends its alerts there. Yields their working folder."""
    work = Path(tempfile.mkdtemp(prefix="plume-alerting-"))
    am_port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env |= {"PLUME_HOME": str(work), "PLUME_ALERT_WEBHOOK_URL": f"http://{drill.address}/hook"}
    subprocess.run(
        ["bash", "-c", f"source {REPO}/deploy/local/common.sh && "
         f"source {REPO}/deploy/local/alerting.sh && write_alertmanager_config"],
        env=env, check=True, timeout=30,
    )  # fmt: skip
    (work / "drill.yml").write_text(DRILL_RULE)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(work / "drill.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
        },
        "scrape_configs": [{"job_name": "drill", "static_configs": [{"targets": [drill.address]}]}],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    processes = [
        spawn(
            ["prometheus-alertmanager", f"--config.file={work / 'alertmanager.yml'}",
             f"--storage.path={work / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}",
             "--cluster.listen-address="],
            work / "alertmanager.log",
        ),
        spawn(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
            work / "prometheus.log",
        ),
    ]  # fmt: skip
    try:
        wait_for_port(am_port)
        wait_for_port(prom_port)
        yield work
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        subprocess.run(["rm", "-rf", str(work)], check=False)


def test_a_firing_alert_reaches_the_webhook_receiver(drill: Drill, alerting_pair: Path) -> None:
    raised = time.monotonic()
    drill.level = 1
    delivered: list[dict[str, Any]] = []

    def delivered_so_far() -> list[dict[str, Any]]:
        delivered.extend(drill.firing_alerts())
        return delivered

    try:
        wait_until_sync(delivered_so_far, within=DELIVERY_DEADLINE_S, every=0.2)
    except TimeoutError:
        logs = {p.name: p.read_text()[-2000:] for p in alerting_pair.glob("*.log")}
        pytest.fail(f"no drill alert reached the receiver; logs: {logs}")
    alert = delivered[0]
    print(f"drill alert delivered {time.monotonic() - raised:.1f}s after raising it: {alert}")
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["job"] == "drill"
    assert alert["annotations"]["summary"] == "Alert delivery drill"
    assert alert["generatorURL"].startswith("http://")  # it came from Prometheus


def test_the_stacks_prometheus_sends_to_the_stacks_alertmanager() -> None:
    prometheus = f"http://127.0.0.1:{os.environ.get('PLUME_PROMETHEUS_PORT', '9090')}"
    alertmanager = f"http://127.0.0.1:{os.environ.get('PLUME_ALERTMANAGER_PORT', '9193')}"

    def active() -> list[str]:
        answer = httpx.get(f"{prometheus}/api/v1/alertmanagers", timeout=5.0).json()
        return [am["url"] for am in answer["data"]["activeAlertmanagers"]]

    assert wait_until_sync(active, within=30.0, every=0.5) == [f"{alertmanager}/api/v2/alerts"]
    status = httpx.get(f"{alertmanager}/api/v2/status", timeout=5.0).json()
    assert "operators-webhook" in status["config"]["original"]
