"""How many replicas the contract's topics get, with which settings, and how their health
reads from the cluster's metadata."""

from __future__ import annotations

import pytest

from shared.topic_health import health_of
from shared.topics import ACTIONS, TOPICS, replication_for, spec_of, with_retention

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("bootstrap", "replicas"),
    [
        ("127.0.0.1:9092", 1),
        ("127.0.0.1:9092,127.0.0.1:9094", 2),
        ("127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096", 3),
        ("a:1,b:1,c:1,d:1,e:1", 3),
        ("127.0.0.1:9092, 127.0.0.1:9092", 1),
    ],
)
def test_one_replica_per_node_listed_at_most_three(bootstrap: str, replicas: int) -> None:
    assert replication_for(bootstrap) == replicas


def test_three_replicas_need_two_in_sync_and_no_unclean_leader() -> None:
    for spec in TOPICS:
        config = spec.topic_config(3)
        assert config["min.insync.replicas"] == "2", spec.name
        assert config["unclean.leader.election.enable"] == "false", spec.name


def test_one_node_keeps_the_topic_settings_it_had() -> None:
    assert spec_of(ACTIONS).topic_config() == {"min.insync.replicas": "1"}
    assert spec_of(ACTIONS).topic_config(1) == spec_of(ACTIONS).topic_config()


def partition(leader: int, replicas: list[int], isr: list[int]) -> dict[str, object]:
    return {"leader": leader, "replicas": replicas, "isr": isr}


def test_health_reports_the_worst_partition() -> None:
    health = health_of(
        ACTIONS,
        [
            partition(1, [1, 2, 3], [1, 2, 3]),
            partition(2, [2, 3, 1], [2, 3]),
            partition(-1, [3, 1, 2], []),
        ],
    )
    assert (health.partitions, health.replicas, health.in_sync) == (3, 3, 0)
    assert (health.under_replicated, health.leaderless) == (2, 1)
    assert (
        "in sync 0/3 (worst partition; 2 under-replicated), 1 without leader" in health.describe()
    )


def test_health_of_a_fully_replicated_topic() -> None:
    health = health_of(ACTIONS, [partition(i, [1, 2, 3], [3, 2, 1]) for i in (1, 2, 3)])
    assert health.describe().endswith("replication 3  in sync 3/3")


def test_a_missing_topic_says_so() -> None:
    assert health_of(ACTIONS, []).describe().split() == [ACTIONS, "missing"]


def test_the_actions_topic_keeps_what_its_retention_setting_says_and_only_it() -> None:
    kept = with_retention(TOPICS, ACTIONS, 2.5)
    assert spec_of(ACTIONS).config.get("retention.ms") is None  # the table itself unchanged
    by_name = {spec.name: spec for spec in kept}
    assert by_name[ACTIONS].topic_config(3)["retention.ms"] == str(int(2.5 * 86_400_000))
    assert by_name[ACTIONS].topic_config(3)["min.insync.replicas"] == "2"
    others = [spec for spec in kept if spec.name != ACTIONS]
    assert all("retention.ms" not in spec.topic_config(1) for spec in others)
