"""A bot wave inside normal traffic, through a real intake and counter on the real Kafka
and PostgreSQL: flagged by network and by email domain (and nothing of the normal
traffic), then invalidated by the operator's commands, dry run first, with totals and
milestones corrected and the normal traffic untouched.

Every client posts from a real address of its own (loopback has the whole 127/8), not
through X-Forwarded-For: the wave from 50 addresses of 127.0.5.0/24, normal supporters
each from a /24 of their own, so the test holds whatever intake trusts of forwarded
headers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY

from services.counter import bootstrap
from services.counter.settings import CounterSettings
from services.intake.domain.origins import origin_of
from services.intake.entrypoints.state import origin_secret
from shared.catalog import CatalogView
from shared.contracts.catalog import CampaignFile, case_records
from shared.kafka import encode
from tests.integration.counter.conftest import MakeSettings, counter_env
from tests.integration.counter.helpers import stored_totals, wait_for_totals
from tests.integration.intake.conftest import (
    RunningIntake,
    campaign_for_tests,
    ready_intake,
)
from tests.integration.intake.conftest import isolated_settings as intake_settings
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
CASE, MILESTONE = "sonia-dahmani", 150
BEFORE, DURING, WAVE = 60, 40, 200  # normal signatures before and during the wave; bots
WAVE_ADDRESSES = [f"127.0.5.{i}" for i in range(1, 51)]  # one /24, 4 signatures each
IN_FLIGHT = 16
DETECTION = {  # the counter's thresholds, scaled down from a minute to seconds
    "anomaly_window_s": 10.0,
    "anomaly_bucket_s": 1.0,
    "anomaly_usual_s": 600.0,
    "anomaly_factor": 10.0,
    "anomaly_min_actions": 40,
    "anomaly_warmup_s": 2.0,
    "anomaly_check_s": 0.5,
}


def campaign() -> CampaignFile:
    data = campaign_for_tests().model_dump(mode="json")
    data["milestones"] = [MILESTONE]
    return CampaignFile.model_validate(data)


@pytest.fixture
async def counter(make_settings: MakeSettings) -> AsyncIterator[bootstrap.Counter]:
    settings = await make_settings(partitions=3, **DETECTION)
    catalog = CatalogView()
    for record in case_records(campaign()):
        catalog.apply(record.case.id.encode(), encode(record))
    parts = bootstrap.build(settings, catalog)
    async with bootstrap.running(parts):
        yield parts


@pytest.fixture
async def intake(counter: bootstrap.Counter) -> AsyncIterator[RunningIntake]:
    settings = intake_settings(actions_topic=counter.settings.actions_topic)
    async with ready_intake(settings, campaign()) as running:
        yield running
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:  # the actions topic is the counter's, deleted by its fixture
        await admin.delete_topics([settings.cases_topic])
    finally:
        await admin.close()


Posting = Coroutine[Any, Any, str]


async def post(url: str, address: str, email: str, limit: asyncio.Semaphore) -> str:
    """One signature from `address` (a real source address, not a forwarded one)."""
    body = {
        "case_id": CASE,
        "type": "signature",
        "supporter": {"name": "Some One", "email": email, "country": "FR"},
    }
    async with limit:
        # made here, not before waiting: a transport costs a TLS context (verify=False: a
        # cheap one), which 300 of them at once would build while holding the event loop
        transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            answer = await client.post(f"{url}/v1/actions", json=body)
    assert answer.status_code == 202, answer.text
    action_id: str = answer.json()["action_id"]
    return action_id


def normal(url: str, first: int, count: int, limit: asyncio.Semaphore) -> list[Posting]:
    """Supporters each from a /24 of their own, with emails of 25 domains."""
    return [
        post(url, f"127.{1 + i // 250}.{i % 250}.1", f"s-{uuid4().hex}@ex{i % 25}.org", limit)
        for i in range(first, first + count)
    ]


def bots(url: str, limit: asyncio.Semaphore) -> list[Posting]:
    """Distinct emails of one (disposable) domain, from addresses of one /24."""
    return [
        post(
            url, WAVE_ADDRESSES[i % len(WAVE_ADDRESSES)], f"bot-{uuid4().hex}@mailinator.com", limit
        )
        for i in range(WAVE)
    ]


def mix(wave: list[Posting], others: list[Posting]) -> list[tuple[bool, Posting]]:
    """The wave with a normal supporter every WAVE // DURING bots (True: a bot)."""
    mixed: list[tuple[bool, Posting]] = []
    every = len(wave) // len(others)
    for i, other in enumerate(others):
        mixed += [(False, other), *((True, bot) for bot in wave[i * every : (i + 1) * every])]
    return mixed + [(True, bot) for bot in wave[len(others) * every :]]


async def flags(counter: bootstrap.Counter) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=counter.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://counter") as client:
        answer = await client.get("/v1/anomalies")
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()["anomalies"]
    return found


def wave_hashes(intake: RunningIntake) -> tuple[str | None, str | None]:
    """What intake puts on the wave's actions, from its own key."""
    settings = intake.settings
    key = origin_secret(settings, settings.supporter_key_secret.get_secret_value().encode())
    origin = origin_of(key, WAVE_ADDRESSES[0], "anyone@mailinator.com")
    return origin.network_hash, origin.email_domain_hash


async def plume(settings: CounterSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's command, against this counter's schema. Run off the event loop: the
    counter under test runs on this loop, and its milestone outbox may hold a row the
    command must lock; a blocked loop would leave both waiting until the command's
    timeout."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "plume"), "counter", *args],
        env={**counter_env(settings, 0), "PLUME_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"plume counter {' '.join(args)}: {done.stderr[-2000:]}"
    return done


async def milestones_reached(settings: CounterSettings) -> list[int]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        table = f'"{settings.db_schema}".milestones_reached'
        return [r["milestone"] for r in await conn.fetch(f"SELECT milestone FROM {table}")]
    finally:
        await conn.close()


async def live(settings: CounterSettings, action_ids: list[str]) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        count: int = await conn.fetchval(
            f'SELECT count(*) FROM "{settings.db_schema}".ledger '
            "WHERE action_id = ANY($1::uuid[]) AND invalidated_at IS NULL",
            action_ids,
        )
        return count
    finally:
        await conn.close()


def gauge(kind: str) -> float | None:
    return REGISTRY.get_sample_value(
        "plume_counter_anomalies_active", {"case_id": CASE, "kind": kind}
    )


async def test_a_bot_wave_is_flagged_then_invalidated_leaving_normal_traffic(
    counter: bootstrap.Counter, intake: RunningIntake
) -> None:
    settings, limit = counter.settings, asyncio.Semaphore(IN_FLIGHT)
    before = await asyncio.gather(*normal(intake.url, 0, BEFORE, limit))
    await wait_until(lambda: _past(counter.waves.started_s + DETECTION["anomaly_warmup_s"]))
    await wait_for_totals(settings, {CASE: BEFORE})

    started = time.monotonic()
    mixed = mix(bots(intake.url, limit), normal(intake.url, BEFORE, DURING, limit))
    posting = asyncio.gather(*(coroutine for _, coroutine in mixed))
    flagged = await wait_until(
        lambda: flags(counter), lambda f: {x["kind"] for x in f} >= {"network", "domain"}, 120
    )
    flagged_after = time.monotonic() - started
    answers = list(zip((is_bot for is_bot, _ in mixed), await posting, strict=True))
    wave = [action_id for is_bot, action_id in answers if is_bot]
    during = [action_id for is_bot, action_id in answers if not is_bot]
    posted_in = time.monotonic() - started
    await wait_for_totals(settings, {CASE: BEFORE + DURING + WAVE})
    assert await milestones_reached(settings) == [MILESTONE]

    by_kind = {(f["kind"], f["case_id"]): f for f in flagged}
    assert {kind for kind, _ in by_kind} <= {"network", "domain", "source"}
    assert sum(1 for f in flagged if f["kind"] in ("network", "domain")) == 2, flagged
    network, domain = by_kind[("network", CASE)]["key"], by_kind[("domain", CASE)]["key"]
    assert (network, domain) == wave_hashes(intake)
    at_flag = by_kind[("network", CASE)]
    assert at_flag["window_actions"] >= DETECTION["anomaly_min_actions"]
    await wait_until(lambda: _value(gauge("network")), lambda v: v == 1)
    print(
        f"\nwave of {WAVE} from one /24 among {BEFORE + DURING} normal, posted in "
        f"{posted_in:.1f} s: flagged {flagged_after:.1f} s after its first post, with "
        f"{at_flag['window_actions']} in the window (usually {at_flag['usual_actions']})"
    )

    listed = (await plume(settings, "anomalies")).stdout
    assert f"network {network}" in listed and f"--network {network} --case {CASE}" in listed

    dry = await plume(settings, "invalidate", "--network", network, "--case", CASE, "--dry-run")
    assert f"would invalidate {WAVE} actions" in dry.stdout
    assert (
        f"{CASE}: total would be {BEFORE + DURING}, milestones would be withdrawn: [{MILESTONE}]"
        in dry.stdout
    )
    assert "dry run: nothing changed" in dry.stderr
    assert await stored_totals(settings) == {CASE: BEFORE + DURING + WAVE}
    assert await milestones_reached(settings) == [MILESTONE]
    assert await live(settings, wave) == WAVE

    done = await plume(settings, "invalidate", "--network", network, "--case", CASE)
    assert f"invalidated {WAVE} actions" in done.stdout
    assert (
        f"{CASE}: total now {BEFORE + DURING}, milestones withdrawn: [{MILESTONE}]" in done.stdout
    )
    again = await plume(settings, "invalidate", "--network", network, "--case", CASE)
    assert "invalidated 0 actions" in again.stdout
    by_domain = await plume(settings, "invalidate", "--domain", domain, "--case", CASE)
    assert "invalidated 0 actions" in by_domain.stdout  # the same bots: already invalidated

    assert await stored_totals(settings) == {CASE: BEFORE + DURING}
    assert await milestones_reached(settings) == []
    assert await live(settings, wave) == 0
    assert await live(settings, [*before, *during]) == BEFORE + DURING
    remaining = await wait_until(
        lambda: flags(counter), lambda f: not any(x["kind"] in ("network", "domain") for x in f)
    )
    assert all(f["kind"] == "source" for f in remaining)
    await wait_until(lambda: _value(gauge("network")), lambda v: v == 0)
    print(
        f"totals: {BEFORE + DURING + WAVE} before invalidation, {BEFORE + DURING} after; "
        f"milestone {MILESTONE} withdrawn"
    )


async def _past(moment: float) -> bool:
    return time.time() >= moment


async def _value(value: float | None) -> float | None:
    return value
