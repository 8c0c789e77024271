"""The drill's plan on a cluster, and the promises its cluster faults must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import chaos, cluster_faults, faults
from ops.ledger import RequestLog
from ops.load import Attempt

pytestmark = pytest.mark.unit


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(faults, "HOME", tmp_path)
    for name in ("PLUME_KAFKA_BROKERS", "PLUME_COUNTER_INSTANCES", "PLUME_DELIVERY_INSTANCES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def record_topology(home: Path, nodes: int) -> None:
    (home / "kafka").mkdir()
    (home / "kafka" / "topology").write_text(f"{nodes}\n")


def test_a_single_node_keeps_the_single_node_faults(home: Path) -> None:
    assert chaos.fault_plan() == chaos.SINGLE_NODE_FAULTS
    assert cluster_faults.node_name(1) == "kafka"


def test_three_nodes_add_the_cluster_faults(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_topology(home, 3)
    plan = chaos.fault_plan()
    assert "stop Kafka" not in plan and chaos.ONE_OF_SEVERAL not in plan
    for fault in chaos.CLUSTER_INJECTIONS:
        assert fault in plan or fault == chaos.ONE_OF_SEVERAL
    monkeypatch.setenv("PLUME_COUNTER_INSTANCES", "3")
    monkeypatch.setenv("PLUME_DELIVERY_INSTANCES", "3")
    assert chaos.fault_plan()[-1] == chaos.ONE_OF_SEVERAL
    assert cluster_faults.last_instance("counter") == "counter-3"
    assert cluster_faults.node_name(2) == "kafka-2"


def test_the_recorded_topology_wins_over_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_topology(home, 3)
    monkeypatch.setenv("PLUME_KAFKA_BROKERS", "1")
    assert cluster_faults.kafka_nodes() == 3


def test_leaders_are_counted_for_every_node_even_one_leading_nothing() -> None:
    partitions = [{"leader": 1}, {"leader": 1}, {"leader": 3}, {"leader": -1}]
    leaders = cluster_faults.leaders_by_node(partitions, 3)
    assert leaders.most_common()[0] == (1, 2) and leaders.most_common()[-1] == (2, 0)


def phase(fault: str, at: float) -> chaos.Phase:
    return chaos.Phase(fault, injected_at=at, broken_at=at + 1, healing_at=at + 10)


def test_one_node_alone_must_acknowledge_nothing() -> None:
    log = RequestLog("chaos-x")
    log.attempts += [Attempt(101.5, 202), Attempt(105.0, 503), Attempt(112.0, 202)]
    stopped = phase(cluster_faults.STOP_TWO_NODES, 100)
    assert chaos.fault_errors(log, [stopped]) == []  # 101.5: in flight; 112: healed
    log.attempts.append(Attempt(106.0, 202))
    (error,) = chaos.fault_errors(log, [stopped])
    assert "1 writes acknowledged by one node" in error


def test_a_rolling_restart_must_refuse_nothing() -> None:
    log = RequestLog("chaos-x")
    log.attempts += [Attempt(150.0, 503), Attempt(250.0, 202)]
    rolling = phase(cluster_faults.ROLLING_RESTART, 200)
    after = phase("kill -9 intake", 300)
    assert chaos.fault_errors(log, [rolling, after]) == []
    log.attempts.append(Attempt(260.0, None, "ConnectError"))
    (error,) = chaos.fault_errors(log, [rolling, after])
    assert "1 writes refused" in error
    assert "+60.0 s: ConnectError" in error  # when in the restart, and which answer
