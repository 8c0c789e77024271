"""Driving counters under test: produce actions, run `plume serve counter` as a process
that can be SIGKILLed, read totals from the database or the API."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from services.counter.settings import CounterSettings
from shared.contracts.actions import ActionEvent
from shared.kafka import durable_producer, encode
from tests.integration.counter.conftest import counter_env
from tests.serving import REPO, serve_command
from tests.stuck import scrape
from tests.throwaway import free_port
from tests.waiting import wait_until


async def produce(
    settings: CounterSettings, events: Sequence[ActionEvent], raw: Sequence[bytes] = ()
) -> None:
    """Publish with acks=all; raw values (poison) go out keyed like an action would."""
    producer = durable_producer(settings.kafka_bootstrap, "counter-tests", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(settings.actions_topic, encode(e), key=e.kafka_key())
            for e in events
        ]
        futures += [await producer.send(settings.actions_topic, v, key=b"poison") for v in raw]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def stored_totals(settings: CounterSettings) -> dict[str, int]:
    """Totals as committed in PostgreSQL (readable whether or not a counter runs)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(f'SELECT case_id, total FROM "{settings.db_schema}".case_totals')
    except asyncpg.UndefinedTableError:
        return {}
    finally:
        await conn.close()
    return {r["case_id"]: r["total"] for r in rows}


async def wait_for_totals(
    settings: CounterSettings, expected: dict[str, int], within: float = 60.0
) -> dict[str, int]:
    return await wait_until(lambda: stored_totals(settings), lambda t: t == expected, within)


SPAWNED: list[CounterProcess] = []  # killed after each test, whatever happened in it


def kill_spawned() -> None:
    while SPAWNED:
        SPAWNED.pop().kill()


@dataclass
class CounterProcess:
    """`plume serve counter` in its own process, with the test's isolated settings."""

    settings: CounterSettings
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ready_within: float = 60.0) -> CounterProcess:
        self.spawn()
        await wait_until(self._answers, within=ready_within)
        return self

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"counter-{self.port}.log"

    def spawn(self) -> None:
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            serve_command("counter"),
            cwd=REPO,
            env=counter_env(self.settings, self.port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        SPAWNED.append(self)

    async def _answers(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise RuntimeError(f"counter exited with {self.process.returncode}; see {self.log_dir}")
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                return (await client.get(f"{self.url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def metric(self, name: str) -> float:
        """Sum of a metric's samples (all labels) from /metrics."""
        return await scrape(self.url, name)
