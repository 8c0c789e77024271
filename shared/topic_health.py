"""How well the contract's topics are replicated right now, from the cluster's metadata:
what `plume topics status` (and so `make status`) prints for operators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from shared.topics import TOPICS


@dataclass(frozen=True)
class TopicHealth:
    name: str
    partitions: int
    replicas: int  # replication factor (the smallest of any partition)
    in_sync: int  # in-sync replicas of the worst partition
    under_replicated: int  # partitions with fewer in-sync replicas than replicas
    leaderless: int  # partitions that take no writes at all

    def describe(self) -> str:
        if not self.partitions:
            return f"{self.name:<24} missing"
        text = (
            f"{self.name:<24} partitions {self.partitions:<3} replication {self.replicas}  "
            f"in sync {self.in_sync}/{self.replicas}"
        )
        if self.under_replicated:
            text += f" (worst partition; {self.under_replicated} under-replicated)"
        return text + (f", {self.leaderless} without leader" if self.leaderless else "")


def health_of(name: str, partitions: Iterable[Mapping[str, Any]]) -> TopicHealth:
    """One topic's health from its partitions' metadata (`replicas`, `isr`, `leader`)."""
    rows = list(partitions)
    if not rows:
        return TopicHealth(name, 0, 0, 0, 0, 0)
    return TopicHealth(
        name=name,
        partitions=len(rows),
        replicas=min(len(p["replicas"]) for p in rows),
        in_sync=min(len(p["isr"]) for p in rows),
        under_replicated=sum(len(p["isr"]) < len(p["replicas"]) for p in rows),
        leaderless=sum(p["leader"] < 0 for p in rows),
    )


async def topics_health(bootstrap: str, names: Iterable[str] = ()) -> list[TopicHealth]:
    """The health of `names` (the contract's topics by default), in that order."""
    wanted = list(names) or [spec.name for spec in TOPICS]
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="plume-admin", request_timeout_ms=5_000
    )
    await admin.start()
    try:
        described = await admin.describe_topics(wanted)
    finally:
        await admin.close()
    by_name = {t["topic"]: t["partitions"] for t in described if not t["error_code"]}
    return [health_of(name, by_name.get(name, ())) for name in wanted]
