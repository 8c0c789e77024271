"""Private, short-lived Kafka brokers and PostgreSQL clusters for fault tests: a test may
kill or stop these without disturbing the shared stack or other tests. Real servers, the
same binaries `make up` runs; each lives in its own temporary directory and free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import wait_until_sync

REPO = Path(__file__).resolve().parent.parent
KAFKA_CONFIG = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
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


@dataclass
class ThrowawayKafka:
    """A one-node KRaft broker on free ports; `kill()` is SIGKILL, `start()` brings it back
    with its data (same cluster id), so acknowledged records survive."""

    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="plume-kafka-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        classpath = f"{kafka_libs()}/*"
        config = self.workdir / "server.properties"
        if not config.exists():
            config.write_text(
                KAFKA_CONFIG.format(
                    port=self.port, controller=self.controller_port, data=self.workdir / "data"
                )
            )
            cluster_id = _java(classpath, "kafka.tools.StorageTool", "random-uuid").strip()
            _java(
                classpath, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
            )
        log = (self.workdir / "kafka.log").open("ab")
        self.process = subprocess.Popen(
            ["java", "-Xmx512m", "-Xms128m", "-cp", classpath, "kafka.Kafka", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        wait_for_port(self.port, up=False)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _java(classpath: str, main: str, *args: str) -> str:
    done = subprocess.run(
        ["java", "-cp", classpath, main, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()[-1] if done.stdout else ""


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
