"""The local stack's shell scripts: syntax, the addresses they derive from the environment
(the same as the `stack` fixture's), and the configs they render for other ports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import stack_from_env
from tests.tools import IN_CI

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "deploy" / "local"
OVERRIDES = {
    "PLUME_KAFKA_PORT": "19092",
    "PLUME_KAFKA_CONTROLLER_PORT": "19093",
    "PLUME_PG_PORT": "15432",
    "PLUME_PROMETHEUS_PORT": "19090",
    "PLUME_INTAKE_PORT": "18001",
    "PLUME_COUNTER_PORT": "18002",
    "PLUME_DELIVERY_PORT": "18003",
    "PLUME_ALERTMANAGER_PORT": "19193",
    "PLUME_NODE_EXPORTER_PORT": "19100",
}


def bash(script: str, env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    done = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {LOCAL}/common.sh; {script}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


@pytest.mark.parametrize("script", sorted(LOCAL.glob("*.sh")), ids=lambda p: p.name)
def test_scripts_parse(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


@pytest.mark.skipif(
    shutil.which("shellcheck") is None and not IN_CI, reason="shellcheck not installed"
)
def test_scripts_pass_shellcheck() -> None:
    scripts = [*sorted(LOCAL.glob("*.sh")), REPO / ".ci" / "run"]
    checked = subprocess.run(
        ["shellcheck", *map(str, scripts)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout


def test_defaults_are_the_contract_addresses() -> None:
    out = bash('echo "$PLUME_HOME $PLUME_KAFKA_BOOTSTRAP $PLUME_DATABASE_URL"', {})
    assert out.split() == [
        str(REPO / ".plume"),
        "127.0.0.1:9092",
        "postgresql://plume:plume@127.0.0.1:5432/plume",
    ]


def test_overrides_reach_the_services_as_the_fixture_sees_them() -> None:
    out = bash(
        'echo "$PLUME_KAFKA_BOOTSTRAP $PLUME_DATABASE_URL $PLUME_INTAKE_PORT '
        '$PLUME_COUNTER_PORT $PLUME_DELIVERY_PORT"',
        OVERRIDES,
    )
    fixture = stack_from_env(OVERRIDES)
    assert out.split() == [
        fixture.kafka_bootstrap,
        fixture.database_url,
        *(url.rsplit(":", 1)[1] for url in fixture.service_urls.values()),
    ]


def prometheus_config(tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    bash(
        f"source {LOCAL}/services.sh; source {LOCAL}/prometheus.sh; write_prometheus_config",
        {**env, "PLUME_HOME": str(tmp_path)},
    )
    config: dict[str, Any] = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    return config


def test_prometheus_config_follows_port_overrides(tmp_path: Path) -> None:
    config = prometheus_config(tmp_path, OVERRIDES)
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    assert targets == {
        "prometheus": ["127.0.0.1:19090"],
        "intake": ["127.0.0.1:18001"],
        "counter": ["127.0.0.1:18002"],
        "delivery": ["127.0.0.1:18003"],
        "alertmanager": ["127.0.0.1:19193"],
        "node-exporter": ["127.0.0.1:19100"],
    }
    alerting = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alerting == ["127.0.0.1:19193"]
    rule_files = [Path(pattern) for pattern in config.get("rule_files", [])]
    absolute = [p for p in rule_files if p.is_absolute()]
    assert absolute, "the rules must be found from any PLUME_HOME"
    assert all(list(p.parent.glob(p.name)) for p in absolute)


def test_prometheus_scrapes_every_instance_of_counter_and_delivery(tmp_path: Path) -> None:
    """Instance i > 1 of a service listens on its port + 10(i-1): each is a target of the
    service's job, so a dead one fires TargetDown and its metrics count in the sums."""
    instances = {"PLUME_COUNTER_INSTANCES": "3", "PLUME_DELIVERY_INSTANCES": "2"}
    config = prometheus_config(tmp_path, {**OVERRIDES, **instances})
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    assert targets["counter"] == ["127.0.0.1:18002", "127.0.0.1:18012", "127.0.0.1:18022"]
    assert targets["delivery"] == ["127.0.0.1:18003", "127.0.0.1:18013"]
    assert targets["intake"] == ["127.0.0.1:18001"]  # one process (its workers share a port)


@pytest.mark.parametrize("mountpoint", ["/", "/srv/plume.data", "/mnt/a|b&c"])
def test_the_data_volume_label_selects_the_mount_point_of_plume_home(
    tmp_path: Path, mountpoint: str
) -> None:
    """The disk alerts select volume="plume-data": the relabel must match exactly the mount
    point df names for PLUME_HOME, whatever characters it holds."""
    fake_df = f"df() {{ printf 'Mounted on\\n%s\\n' '{mountpoint}'; }}"
    bash(
        f"source {LOCAL}/services.sh; source {LOCAL}/prometheus.sh; {fake_df}; "
        "write_prometheus_config",
        {"PLUME_HOME": str(tmp_path)},
    )
    config: dict[str, Any] = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    (node,) = [job for job in config["scrape_configs"] if job["job_name"] == "node-exporter"]
    (relabel,) = node["metric_relabel_configs"]
    assert relabel["target_label"] == "volume" and relabel["replacement"] == "plume-data"
    pattern = re.compile(relabel["regex"])  # Prometheus anchors it: fullmatch
    assert pattern.fullmatch(mountpoint)
    assert not pattern.fullmatch(mountpoint + "x") and not pattern.fullmatch("/boot")


def test_alertmanager_config_posts_to_the_configured_webhook(tmp_path: Path) -> None:
    url = "https://hooks.example.org/plume?team=ops&x=1|2"
    bash(
        f"source {LOCAL}/alerting.sh; write_alertmanager_config",
        {"PLUME_HOME": str(tmp_path), "PLUME_ALERT_WEBHOOK_URL": url},
    )
    config: dict[str, Any] = yaml.safe_load((tmp_path / "alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    default = receivers[config["route"]["receiver"]]
    assert [hook["url"] for hook in default["webhook_configs"]] == [url]


def test_kafka_config_follows_port_overrides(tmp_path: Path) -> None:
    bash(f"source {LOCAL}/kafka.sh; write_kafka_config", {**OVERRIDES, "PLUME_HOME": str(tmp_path)})
    text = (tmp_path / "kafka" / "server.properties").read_text()
    config = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert config["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert config["log.dirs"] == str(tmp_path / "kafka" / "data")
    assert "@" not in config["log.dirs"]


def test_install_lists_the_debian_packages_the_stack_runs() -> None:
    packages = (LOCAL / "debian-packages.txt").read_text().split()
    assert {
        "postgresql",
        "prometheus",
        "prometheus-alertmanager",
        "prometheus-node-exporter",
        "chromium",
        "chromium-driver",
    } <= set(packages)


def test_kafka_runtime_is_kafka_4_with_a_matching_log4j2_binding() -> None:
    pom = (LOCAL / "kafka" / "pom.xml").read_text()
    assert re.search(r"<kafka.version>4\.1\.\d+</kafka.version>", pom)
    for artifact in ("kafka_2.13", "kafka-tools", "log4j-slf4j-impl"):
        assert f"<artifactId>{artifact}</artifactId>" in pom


def _properties(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_one_node_keeps_its_layout_and_a_single_replica(tmp_path: Path) -> None:
    env = {**OVERRIDES, "PLUME_HOME": str(tmp_path)}
    bash(f"source {LOCAL}/kafka.sh; write_kafka_config 1", env)
    config = _properties(tmp_path / "kafka" / "server.properties")
    assert config["node.id"] == "1"
    assert config["default.replication.factor"] == config["offsets.topic.replication.factor"] == "1"
    assert config["min.insync.replicas"] == "1"
    assert bash("kafka_node_names", env).split() == ["kafka"]


def test_three_nodes_form_one_quorum_on_ports_two_apart(tmp_path: Path) -> None:
    env = {**OVERRIDES, "PLUME_HOME": str(tmp_path), "PLUME_KAFKA_BROKERS": "3"}
    bash(f"source {LOCAL}/kafka.sh; for i in 1 2 3; do write_kafka_config $i; done", env)
    voters = "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
    for i, (port, controller) in enumerate([(19092, 19093), (19094, 19095), (19096, 19097)], 1):
        config = _properties(tmp_path / "kafka" / f"node-{i}" / "server.properties")
        assert config["node.id"] == str(i)
        assert config["controller.quorum.voters"] == voters
        assert config["listeners"] == (
            f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}"
        )
        assert config["log.dirs"] == str(tmp_path / "kafka" / f"node-{i}" / "data")
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["transaction.state.log.replication.factor"] == "3"
        assert config["min.insync.replicas"] == config["transaction.state.log.min.isr"] == "2"
        assert config["unclean.leader.election.enable"] == "false"
    assert bash("kafka_node_names", env).split() == ["kafka-1", "kafka-2", "kafka-3"]
    assert bash('port_of kafka-3; echo "$PLUME_KAFKA_BOOTSTRAP"', env).split() == [
        "19096",
        "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096",
    ]
    assert stack_from_env(env).kafka_bootstrap == "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"


def test_make_exports_every_node_of_the_cluster() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env = {**clean, "PLUME_KAFKA_BROKERS": "3", "PLUME_KAFKA_PORT": "19092"}
    printed = subprocess.run(
        ["make", "-s", "-f", "-", "show"],
        input=f"include {REPO}/Makefile\nshow:\n\t@echo $$PLUME_KAFKA_BOOTSTRAP\n",
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        cwd=REPO,
    )
    assert printed.stdout.split() == ["127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"]


def check_topology(home: Path, brokers: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    script = f"source {LOCAL}/common.sh; source {LOCAL}/kafka.sh; check_kafka_topology"
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; {script}"],
        env={**clean, "PLUME_HOME": str(home), "PLUME_KAFKA_BROKERS": brokers},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_home_keeps_the_topology_it_was_first_started_with(tmp_path: Path) -> None:
    assert check_topology(tmp_path, "3").returncode == 0  # first start: recorded
    assert (tmp_path / "kafka" / "topology").read_text().strip() == "3"
    assert check_topology(tmp_path, "3").returncode == 0
    refused = check_topology(tmp_path, "1")
    assert refused.returncode != 0
    assert "holds a Kafka of 3 node(s) but PLUME_KAFKA_BROKERS=1" in refused.stderr
    assert "nothing was started" in refused.stderr


def test_a_home_made_before_topologies_were_recorded_has_one_node(tmp_path: Path) -> None:
    (tmp_path / "kafka" / "data").mkdir(parents=True)
    (tmp_path / "kafka" / "data" / "meta.properties").write_text("node.id=1\n")
    assert "holds a Kafka of 1 node(s)" in check_topology(tmp_path, "3").stderr
    assert check_topology(tmp_path, "1").returncode == 0


def test_an_unsupported_cluster_size_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        bash("true", {"PLUME_KAFKA_BROKERS": "three"})
    assert "PLUME_KAFKA_BROKERS must be 1 or 3" in refused.value.stderr


def test_instances_of_counter_and_delivery_get_ports_ten_apart(tmp_path: Path) -> None:
    env = {
        **OVERRIDES,
        "PLUME_HOME": str(tmp_path),
        "PLUME_COUNTER_INSTANCES": "3",
        "PLUME_DELIVERY_INSTANCES": "2",
    }
    names = bash(f"source {LOCAL}/services.sh; service_instances", env).split()
    assert names == ["intake", "counter", "counter-2", "counter-3", "delivery", "delivery-2"]
    ports = bash(f"for n in {' '.join(names)}; do port_of $n; done", env).split()
    assert ports == ["18001", "18002", "18012", "18022", "18003", "18013"]


def test_instances_left_running_by_a_larger_setting_are_still_listed(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "counter-3.pid").write_text("1\n")
    env = {**OVERRIDES, "PLUME_HOME": str(tmp_path)}
    names = bash(f"source {LOCAL}/services.sh; service_instances", env).split()
    assert names == ["intake", "counter", "counter-3", "delivery"]
