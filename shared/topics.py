"""The Kafka topics of the public contract, and how each is laid out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)

    def topic_config(self) -> dict[str, str]:
        policy = {"cleanup.policy": "compact"} if self.compacted else {}
        return {**policy, **self.config}


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


def spec_of(name: str) -> TopicSpec:
    return next(spec for spec in TOPICS if spec.name == name)
