"""Isolation for intake integration tests: an actions topic and a cases topic of their own
(uuid-suffixed), the default campaign plus a closed case published there, API keys with
unique names, and the intake app served in-process by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import uvicorn

from services.intake.bootstrap import Intake
from services.intake.settings import IntakeSettings
from shared import apikeys
from shared.catalog import publish_campaign
from shared.contracts.catalog import CampaignFile
from shared.db import create_pool
from shared.kafka import delete_topics, durable_producer, ensure_topics
from shared.serve import uvicorn_options
from shared.settings import InfraSettings
from shared.topics import TopicSpec
from tests.conftest import _port_answers, stack_from_env
from tests.serving import REPO, serve_command
from tests.throwaway import free_port
from tests.waiting import wait_until

CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy/campaigns/w4r-2025.json"
OPEN_CASE = "sonia-dahmani"
CLOSED_CASE = "closed-for-tests"


def isolated_settings(**overrides: object) -> IntakeSettings:
    suffix = uuid4().hex[:10]
    values: dict[str, object] = {
        "actions_topic": f"test.intake.actions.{suffix}",
        "cases_topic": f"test.intake.cases.{suffix}",
        "supporter_key_secret": secrets.token_hex(16),
        "port": free_port(),
        "anonymous_rate_limit": 30,
        "cors_origins": ["https://write.example.org"],
        "heartbeat_interval_s": 0.2,
        # The tests stand for a load balancer on 127.0.0.1: their X-Forwarded-For names the
        # client, so each test (and each kind of caller) has an address of its own.
        # (Untrusted peers: test_trusted_proxies.py.)
        "trusted_proxies": "127.0.0.1",
    }
    values.update(overrides)
    return IntakeSettings.model_validate(values)


def process_env(config: IntakeSettings, **extra: str) -> dict[str, str]:
    """The environment of a `plume serve intake` process running with `config`."""
    quiet = config.model_copy(update={"log_level": "WARNING"})
    return {**os.environ, **quiet.environment(), **extra}


def campaign_for_tests(closed: tuple[str, ...] = ()) -> CampaignFile:
    data = json.loads(CAMPAIGN.read_text())
    extra = json.loads(json.dumps(data["cases"][0]))
    extra.update({"id": CLOSED_CASE, "name": "Closed for tests", "status": "closed"})
    data["cases"].append(extra)
    for case in data["cases"]:
        if case["id"] in closed:
            case["status"] = "closed"
    return CampaignFile.model_validate(data)


async def prepare_topics(settings: IntakeSettings, campaign: CampaignFile) -> None:
    await ensure_topics(
        settings.kafka_bootstrap,
        (
            TopicSpec(settings.actions_topic, 3),
            TopicSpec(settings.cases_topic, 1, compacted=True),
        ),
    )
    await publish_cases(settings, campaign)


async def drop_topics(settings: IntakeSettings) -> None:
    await delete_topics(settings.kafka_bootstrap, [settings.actions_topic, settings.cases_topic])


async def publish_cases(settings: IntakeSettings, campaign: CampaignFile) -> None:
    producer = durable_producer(settings.kafka_bootstrap, "test-intake")
    await producer.start()
    try:
        await publish_campaign(producer, campaign, settings.cases_topic)
    finally:
        await producer.stop()


@dataclass
class RunningIntake:
    settings: IntakeSettings
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]
    parts: Intake  # its supervisor runs the background tasks (readiness tests kill them)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 30)


async def serve(settings: IntakeSettings) -> RunningIntake:
    parts = Intake(settings)
    config = uvicorn.Config(
        parts.asgi_app(),
        host="127.0.0.1",
        port=settings.port,
        lifespan="on",
        **uvicorn_options(settings),  # the same HTTP protocol and limits as `plume serve`
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("intake stopped before it started")
        return bool(server.started)

    await wait_until(started, within=60, every=0.02)
    return RunningIntake(settings, f"http://127.0.0.1:{settings.port}", server, task, parts)


async def wait_ready(
    client: httpx.AsyncClient,
    url: str,
    within: float = 30.0,
    exited: Callable[[], bool] = lambda: False,
) -> None:
    """Until `url` answers /readyz with 200; a server still starting refuses connections."""

    async def status() -> int:
        if exited():
            raise RuntimeError(f"the server behind {url} exited")
        try:
            return (await client.get(f"{url}/readyz")).status_code
        except httpx.TransportError:
            return 0

    await wait_until(status, lambda s: s == 200, within=within)


@dataclass
class ServedWorkers:
    """`plume serve intake` as its own process, with `PLUME_INTAKE_WORKERS` workers."""

    config: IntakeSettings
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"


# Each answer on a new connection, which the kernel gives to either worker: this many 200s
# in a row leave a worker still starting a chance of 2^-20 of having been missed.
READY_IN_A_ROW = 20


def fresh_connections() -> httpx.AsyncClient:
    """A client that opens a new connection for each request (none is kept alive), so
    the kernel spreads its requests over the workers."""
    return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


@contextlib.asynccontextmanager
async def serve_workers(config: IntakeSettings, workers: int) -> AsyncIterator[ServedWorkers]:
    """Its topics prepared, the process started and ready; killed and the topics dropped after."""
    await prepare_topics(config, campaign_for_tests())
    env = process_env(config, PLUME_INTAKE_WORKERS=str(workers))
    process = await asyncio.create_subprocess_exec(*serve_command("intake"), env=env, cwd=REPO)
    served = ServedWorkers(config, process)
    try:
        async with fresh_connections() as client:
            for _ in range(READY_IN_A_ROW):  # every worker, not only the first one up
                await wait_ready(
                    client, served.url, within=60, exited=lambda: process.returncode is not None
                )
        yield served
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await drop_topics(config)


@dataclass(frozen=True)
class Keys:
    writer: str
    tally: str
    batch: str
    batch_limited: str
    reader: str
    all_actions: str
    names: tuple[str, ...]


async def create_keys(database_url: str, writer_limit: int = 0) -> Keys:
    suffix = uuid4().hex[:8]
    specs = {
        "writer": ({apikeys.Scope.ACTIONS_WRITE}, writer_limit),
        "tally": ({apikeys.Scope.ACTIONS_WRITE, apikeys.Scope.ACTIONS_TALLY}, 0),
        "batch": ({apikeys.Scope.ACTIONS_BATCH, apikeys.Scope.ACTIONS_TALLY}, 0),
        "batch_limited": ({apikeys.Scope.ACTIONS_BATCH}, 3),
        "reader": ({apikeys.Scope.DOSSIERS_READ}, 0),
        "all_actions": (
            {apikeys.Scope.ACTIONS_WRITE, apikeys.Scope.ACTIONS_BATCH, apikeys.Scope.ACTIONS_TALLY},
            0,
        ),
    }
    pool = await create_pool(database_url, max_size=1)
    try:
        await apikeys.prepare(pool)
        made: dict[str, str] = {}
        async with pool.acquire() as conn:
            for role, (scopes, limit) in specs.items():
                made[role] = await apikeys.create_key(conn, f"test-{role}-{suffix}", scopes, limit)
    finally:
        await pool.close()
    names = tuple(f"test-{role}-{suffix}" for role in specs)
    return Keys(**made, names=names)


@pytest.fixture(autouse=True)
def _needs_stack(request: pytest.FixtureRequest) -> None:
    """Intake's integration tests serve their own intake: they need only Kafka and
    PostgreSQL, so the full stack (`make up`) is started only when those do not answer."""
    infra = InfraSettings()
    pg_address = infra.database_url.rsplit("@", 1)[-1].split("/", 1)[0]
    if not (_port_answers(infra.kafka_bootstrap.split(",")[0]) and _port_answers(pg_address)):
        request.getfixturevalue("stack")


@pytest.fixture(scope="module")
def redis_url(request: pytest.FixtureRequest) -> str:
    """The stack's Redis (where the rate limits are counted); `make up` when it is down."""
    url = stack_from_env(os.environ).redis_url
    if not _port_answers(url.split("//")[1].split("/")[0]):
        request.getfixturevalue("stack")
    return url


@contextlib.asynccontextmanager
async def ready_intake(
    settings: IntakeSettings, campaign: CampaignFile
) -> AsyncIterator[RunningIntake]:
    """Intake served in-process, its topics prepared, ready; stopped after (topics left)."""
    await prepare_topics(settings, campaign)
    running = await serve(settings)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_ready(client, running.url)
        yield running
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def served_intake(settings: IntakeSettings) -> AsyncIterator[RunningIntake]:
    """An intake with `settings`, its topics and the test campaign, ready; then all gone."""
    try:
        async with ready_intake(settings, campaign_for_tests()) as running:
            yield running
    finally:
        await drop_topics(settings)


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[RunningIntake]:
    async with served_intake(isolated_settings()) as running:
        yield running


async def revoke_keys(database_url: str, keys: Keys) -> None:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            for name in keys.names:
                await apikeys.revoke_key(conn, name)
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def keys(intake: RunningIntake) -> AsyncIterator[Keys]:
    made = await create_keys(intake.settings.database_url)
    yield made
    await revoke_keys(intake.settings.database_url, made)


@pytest.fixture
async def client(intake: RunningIntake) -> AsyncIterator[httpx.AsyncClient]:
    # A client address of its own per test (127.0.0.1 is a trusted proxy, isolated_settings),
    # so the anonymous rate limit of one test never spills into another.
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    headers = {"X-Forwarded-For": address}
    async with httpx.AsyncClient(base_url=intake.url, timeout=15, headers=headers) as client:
        yield client
