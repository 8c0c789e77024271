"""The Kafka topics of the public contract, and how each is laid out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)

    def topic_config(self, replicas: int = 1) -> dict[str, str]:
        policy = {"cleanup.policy": "compact"} if self.compacted else {}
        return {**policy, **self.config, **durability(replicas)}


def durability(replicas: int) -> dict[str, str]:
    """With three replicas or more, every acknowledged write (acks=all) is on two disks,
    one node may be down without refusing writes, and an out-of-sync replica never
    becomes leader (it would drop acknowledged records). One node has nothing to add."""
    if replicas < 3:
        return {}
    return {"min.insync.replicas": "2", "unclean.leader.election.enable": "false"}


def replication_for(bootstrap: str) -> int:
    """The replication factor for a cluster reached through `bootstrap`, which lists
    every node (as `make up` and the throwaway clusters do): one copy per node, at most 3."""
    nodes = {address.strip() for address in bootstrap.split(",") if address.strip()}
    return min(3, max(1, len(nodes)))


ACTIONS = "plume.actions.v1"
CASES = "plume.cases.v1"
CASE_TOTALS = "plume.case-totals.v1"
DOSSIERS = "plume.dossiers.v1"
ACTIONS_DLQ = "plume.actions.dlq.v1"
MILESTONES = "plume.milestones.v1"

# Actions get many partitions so that counter and delivery can scale out to as many
# processes; catalogue-like compacted topics are small and read whole at start.
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(ACTIONS, partitions=12, config={"min.insync.replicas": "1"}),
    TopicSpec(CASES, partitions=1, compacted=True),
    TopicSpec(CASE_TOTALS, partitions=3, compacted=True),
    TopicSpec(DOSSIERS, partitions=3),
    TopicSpec(ACTIONS_DLQ, partitions=3),
    TopicSpec(MILESTONES, partitions=1),
)


DAY_MS = 86_400_000


def with_retention(specs: tuple[TopicSpec, ...], topic: str, days: float) -> tuple[TopicSpec, ...]:
    """`specs` with `topic` kept for `days` days: Kafka deletes older log segments, and so
    every copy of the supporters' data they hold (the README states the setting)."""
    kept = {"retention.ms": str(round(days * DAY_MS))}
    return tuple(
        replace(spec, config={**spec.config, **kept}) if spec.name == topic else spec
        for spec in specs
    )


def spec_of(name: str) -> TopicSpec:
    return next(spec for spec in TOPICS if spec.name == name)
