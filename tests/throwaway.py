"""Private, short-lived Kafka brokers and PostgreSQL clusters for fault tests: a test may
kill or stop these without disturbing the shared stack or other tests. Real servers, the
same binaries `make up` runs; each lives in its own temporary directory and free ports."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from tests.waiting import wait_until_sync

REPO = Path(__file__).resolve().parent.parent
KAFKA_CONFIG = """\
process.roles=broker,controller
node.id={node_id}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.partitions=3
default.replication.factor={replicas}
min.insync.replicas={min_isr}
unclean.leader.election.enable=false
offsets.topic.replication.factor={replicas}
offsets.topic.num.partitions=3
transaction.state.log.replication.factor={replicas}
transaction.state.log.min.isr={min_isr}
share.coordinator.state.topic.replication.factor={replicas}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# A node that died is fenced (its partitions led elsewhere) after 3 s, not 9: short tests.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, up: bool = True, timeout: float = 60.0) -> None:
    def is_up() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until_sync(is_up, lambda answer: answer == up, within=timeout)


def kafka_libs() -> Path:
    """The jars `make install` fetched: $PLUME_KAFKA_LIBS, else $PLUME_HOME/kafka/libs."""
    explicit = os.environ.get("PLUME_KAFKA_LIBS")
    libs = (
        Path(explicit)
        if explicit
        else (Path(os.environ.get("PLUME_HOME", REPO / ".plume")) / "kafka" / "libs")
    )
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise FileNotFoundError(
            f"no Kafka jars in {libs}: run `make install`, or set PLUME_KAFKA_LIBS to a folder "
            "holding the runtime jars of org.apache.kafka:kafka_2.13"
        )
    return libs


# Only the quick first-tier compiler: these JVMs live for a test, and on a busy 2-core
# machine the optimising compiler's threads cost more start-up time than they win back.
def java(*args: str) -> list[str]:
    return ["java", "-XX:TieredStopAtLevel=1", "-cp", f"{kafka_libs()}/*", *args]


def random_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints (URL-safe base64 of 16 random bytes), without
    starting a JVM for it; like Kafka, never one that starts with a dash."""
    while True:
        text = base64.urlsafe_b64encode(uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


@dataclass
class ThrowawayKafka:
    """A KRaft node (broker and controller) on free ports: alone, or one of a
    `ThrowawayKafkaCluster`. `kill()` is SIGKILL, `start()` brings it back with its data
    (same cluster id), so acknowledged records survive."""

    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="plume-kafka-")))
    process: subprocess.Popen[bytes] | None = None
    node_id: int = 1
    voters: str = ""  # the controller quorum: this node alone unless in a cluster
    replicas: int = 1
    cluster_id: str = field(default_factory=random_cluster_id)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.workdir / "server.properties"

    def format(self) -> subprocess.Popen[bytes] | None:
        """Write the config and format the storage (in the background); None when done before."""
        if self.config.exists():
            return None
        self.config.write_text(
            KAFKA_CONFIG.format(
                node_id=self.node_id,
                voters=self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}",
                port=self.port,
                controller=self.controller_port,
                data=self.workdir / "data",
                replicas=self.replicas,
                min_isr=2 if self.replicas >= 3 else 1,
            )
        )
        command = [
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self.cluster_id,
            "-c",
            str(self.config),
        ]
        return subprocess.Popen(java("-XX:+UseSerialGC", *command), stdout=subprocess.DEVNULL)

    def launch(self) -> None:
        """Start the process without waiting: a cluster's node listens only once a quorum
        of its controllers runs."""
        formatting = self.format()
        if formatting and formatting.wait(timeout=120) != 0:
            raise RuntimeError(f"could not format Kafka storage in {self.workdir}")
        log = (self.workdir / "kafka.log").open("ab")
        self.process = subprocess.Popen(
            java("-Xmx512m", "-Xms128m", "kafka.Kafka", str(self.config)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        self.launch()
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        wait_for_port(self.port, up=False)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class ThrowawayKafkaCluster:
    """Three KRaft nodes (each broker and controller) of one cluster, on free ports, with
    the durability settings of `PLUME_KAFKA_BROKERS=3 make up`: internal topics with three
    replicas, two in sync for a write."""

    size: int = 3
    nodes: list[ThrowawayKafka] = field(default_factory=list)

    def __post_init__(self) -> None:
        ports = [(free_port(), free_port()) for _ in range(self.size)]
        voters = ",".join(f"{i}@127.0.0.1:{c}" for i, (_, c) in enumerate(ports, start=1))
        cluster_id = random_cluster_id()
        self.nodes = [
            ThrowawayKafka(
                port=port,
                controller_port=controller,
                node_id=i,
                voters=voters,
                replicas=min(3, self.size),
                cluster_id=cluster_id,
            )
            for i, (port, controller) in enumerate(ports, start=1)
        ]

    @property
    def bootstrap(self) -> str:
        """Every node, as `make up` lists them: clients find the cluster whichever is down."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> ThrowawayKafka:
        return self.nodes[node_id - 1]

    def start(self) -> None:
        formatting = [node.format() for node in self.nodes]  # the JVMs start in parallel
        if any(f and f.wait(timeout=120) != 0 for f in formatting):
            raise RuntimeError("could not format the cluster's storage")
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            wait_for_port(node.port, timeout=90)

    def destroy(self) -> None:
        for node in self.nodes:
            node.destroy()


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} not found: install Debian's postgresql (`make install`)")
    return str(found[-1])


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster of its own, run as the `postgres` user (initdb refuses root)."""

    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="plume-pg-")))

    @property
    def dsn(self) -> str:
        return f"postgresql://plume:plume@127.0.0.1:{self.port}/plume"

    def _as_postgres(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.workdir / "data"
        if not data.exists():
            os.chmod(self.workdir, 0o777)
            self._as_postgres(
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        self._as_postgres(
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.workdir / "pg.log"),
            "-w",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir}",
            "start",
        )
        self._psql(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='plume') "
            "THEN CREATE ROLE plume LOGIN PASSWORD 'plume'; END IF; END $$"
        )
        if "1" not in self._psql("SELECT 1 FROM pg_database WHERE datname='plume'"):
            self._psql("CREATE DATABASE plume OWNER plume")

    def _psql(self, sql: str) -> str:
        done = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout

    def stop(self) -> None:
        self._as_postgres(
            _pg_bin("pg_ctl"), "-D", str(self.workdir / "data"), "-m", "fast", "-w", "stop"
        )

    def destroy(self) -> None:
        if (self.workdir / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
