"""The faults `make chaos` adds when the stack is replicated (PLUME_KAFKA_BROKERS=3, several
counter and delivery instances): Kafka nodes killed, stopped and restarted one by one the
way operators upgrade, and one of several consumer instances killed."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from ops import faults
from ops.endpoints import local_infra
from shared.topic_health import topics_health
from shared.topics import ACTIONS

KILL_LEADER = "kill -9 the Kafka node leading most actions partitions"
KILL_FOLLOWER = "kill -9 a Kafka node leading fewest actions partitions"
STOP_TWO_NODES = "stop two of three Kafka nodes"
ROLLING_RESTART = "rolling restart of every Kafka node"
STOP_DEADLINE_S = 30.0  # as deploy/local's stop deadline: then SIGKILL
IN_SYNC_WITHIN_S = 120.0


def kafka_nodes() -> int:
    """How many Kafka nodes this home runs: the topology `make up` recorded (the lock of
    deploy/local/kafka.sh), else PLUME_KAFKA_BROKERS."""
    recorded = faults.HOME / "kafka" / "topology"
    if recorded.is_file() and recorded.read_text().strip().isdigit():
        return int(recorded.read_text().strip())
    return int(os.environ.get("PLUME_KAFKA_BROKERS", "1"))


def instances(service: str) -> int:
    return int(os.environ.get(f"PLUME_{service.upper()}_INSTANCES", "1"))


def last_instance(service: str) -> str:
    """The pid-file name of the service's last instance (deploy/local/services.sh)."""
    count = instances(service)
    return service if count == 1 else f"{service}-{count}"


def node_name(node_id: int) -> str:
    """Node i of a cluster is `kafka-i` (its node.id is i); a single node is `kafka`."""
    return "kafka" if kafka_nodes() == 1 else f"kafka-{node_id}"


def leaders_by_node(partitions: Iterable[Mapping[str, Any]], nodes: int) -> Counter[int]:
    """How many partitions each node 1…nodes leads (0 for a node that leads none)."""
    counts = Counter({node: 0 for node in range(1, nodes + 1)})
    counts.update(p["leader"] for p in partitions if p["leader"] > 0)
    return counts


async def actions_leaders() -> Counter[int]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=local_infra().kafka_bootstrap, request_timeout_ms=5_000
    )
    await admin.start()
    try:
        (described,) = await admin.describe_topics([ACTIONS])
    finally:
        await admin.close()
    return leaders_by_node(described["partitions"], kafka_nodes())


async def kill_busiest_leader() -> None:
    leaders = await actions_leaders()
    await faults.send_signal(node_name(leaders.most_common()[0][0]), signal.SIGKILL)


async def kill_quietest_node() -> None:
    leaders = await actions_leaders()
    await faults.send_signal(node_name(leaders.most_common()[-1][0]), signal.SIGKILL)


async def stop_nodes(node_ids: Iterable[int]) -> None:
    """SIGTERM all at once (one by one, the last would wait for a quorum already gone),
    SIGKILL whatever still runs after the deadline."""
    pids = [faults.pid_of(node_name(node)) for node in node_ids]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    for pid in pids:
        try:
            await faults.wait_gone(pid, within=STOP_DEADLINE_S)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            await faults.wait_gone(pid)


async def stop_two_nodes() -> None:
    await stop_nodes([1, 2])


async def rolling_restart() -> None:
    """Each node in turn: stop it, start it (`make up`), and wait until every partition has
    all its replicas in sync again before the next, as an operator upgrading Kafka does."""
    for node in range(1, kafka_nodes() + 1):
        await stop_nodes([node])
        await faults.bring_back()
        await all_in_sync()


async def all_in_sync(within: float = IN_SYNC_WITHIN_S) -> None:
    bootstrap = local_infra().kafka_bootstrap
    async with asyncio.timeout(within):
        while True:
            try:
                health = await topics_health(bootstrap)
                if all(t.partitions and t.in_sync == t.replicas for t in health):
                    return
            except (KafkaError, OSError, TimeoutError):  # a node still starting: ask again
                pass
            await asyncio.sleep(0.5)


async def kill_one_of_each_consumer() -> None:
    await faults.send_signal(last_instance("counter"), signal.SIGKILL)
    await faults.send_signal(last_instance("delivery"), signal.SIGKILL)
