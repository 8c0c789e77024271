"""Fixtures every tier may use. `stack` is the running local stack (started with `make up`
if it does not answer); only tests/integration and tests/e2e use it, never tests/unit.
Addresses honour the same environment overrides as `make up` (PLUME_KAFKA_PORT, ...)."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_until_sync

REPO = Path(__file__).resolve().parent.parent
MAKE_UP_TIMEOUT_S = 1200.0  # a cold `make up` downloads Debian packages, jars and wheels
READY_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Stack:
    kafka_bootstrap: str
    database_url: str
    redis_url: str
    intake_url: str
    counter_url: str
    delivery_url: str

    @property
    def service_urls(self) -> dict[str, str]:
        return {
            "intake": self.intake_url,
            "counter": self.counter_url,
            "delivery": self.delivery_url,
        }


def stack_from_env(env: Mapping[str, str]) -> Stack:
    """The addresses `make up` uses for the same environment (deploy/local/common.sh)."""

    def port(name: str, default: int) -> int:
        return int(env.get(f"PLUME_{name}_PORT", default))

    nodes = range(int(env.get("PLUME_KAFKA_BROKERS", 1)))  # node i on the port + 2(i-1)
    kafka = ",".join(f"127.0.0.1:{port('KAFKA', 9092) + 2 * i}" for i in nodes)
    return Stack(
        kafka_bootstrap=env.get("PLUME_KAFKA_BOOTSTRAP", kafka),
        database_url=env.get(
            "PLUME_DATABASE_URL", f"postgresql://plume:plume@127.0.0.1:{port('PG', 5432)}/plume"
        ),
        redis_url=f"redis://127.0.0.1:{port('REDIS', 6379)}/0",
        intake_url=f"http://127.0.0.1:{port('INTAKE', 8001)}",
        counter_url=f"http://127.0.0.1:{port('COUNTER', 8002)}",
        delivery_url=f"http://127.0.0.1:{port('DELIVERY', 8003)}",
    )


# Tests that read InfraSettings() (PLUME_KAFKA_BOOTSTRAP, PLUME_DATABASE_URL) must find the
# same stack as this fixture when only the ports were overridden.
_ADDRESSES = stack_from_env(os.environ)
os.environ.setdefault("PLUME_KAFKA_BOOTSTRAP", _ADDRESSES.kafka_bootstrap)
os.environ.setdefault("PLUME_DATABASE_URL", _ADDRESSES.database_url)


def use_stack_master_key() -> None:
    """Services started by a test share the stack's data keys (PostgreSQL), so they need
    its master key: the one `make up` keeps, unless the environment gives one."""
    kept = REPO / os.environ.get("PLUME_HOME", ".plume") / "secrets" / "supporter-master-key"
    if kept.is_file():
        os.environ.setdefault("PLUME_SUPPORTER_MASTER_KEY", kept.read_text().strip())


use_stack_master_key()


def _port_answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _stack_answers(stack: Stack) -> bool:
    pg_address = stack.database_url.rsplit("@", 1)[-1].split("/", 1)[0]
    redis_address = stack.redis_url.split("//")[1].split("/")[0]
    if not all(
        _port_answers(address)
        for address in (stack.kafka_bootstrap.split(",")[0], pg_address, redis_address)
    ):
        return False
    try:
        return all(
            httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
            for url in stack.service_urls.values()
        )
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The running stack; `make up` first when it does not answer."""
    current = stack_from_env(os.environ)
    if _stack_answers(current):
        use_stack_master_key()
        return current
    try:
        started = subprocess.run(
            ["make", "up"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=MAKE_UP_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`make up` took more than {MAKE_UP_TIMEOUT_S:.0f}s")
    if started.returncode != 0:
        pytest.fail(
            f"`make up` failed ({started.returncode}):\n{started.stdout[-3000:]}"
            f"\n{started.stderr[-3000:]}"
        )
    try:
        wait_until_sync(lambda: _stack_answers(current), within=READY_DEADLINE_S, every=0.2)
    except TimeoutError:
        pytest.fail(f"the stack did not answer within {READY_DEADLINE_S:.0f}s of `make up`")
    use_stack_master_key()
    return current
