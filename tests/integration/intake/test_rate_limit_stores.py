"""The RateLimits port's contract, run against the in-process store and the real Redis one;
and what Redis being unreachable means (fail open, to each process's own limit)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from services.intake import metrics
from services.intake.adapters.rate_limits import LocalRateLimits, RedisRateLimits
from services.intake.domain.ports import RateLimits
from tests.integration.intake.conftest import (
    campaign_for_tests,
    drop_topics,
    isolated_settings,
    prepare_topics,
    serve,
    wait_ready,
)
from tests.integration.intake.test_status_table import signature
from tests.throwaway import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "redis"])
async def store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[RateLimits]:
    made: RateLimits = (
        LocalRateLimits(60.0)
        if request.param == "local"
        else RedisRateLimits(redis_url, 60.0, timeout_s=2.0)
    )
    yield made
    await made.close()


def caller() -> str:
    return f"test:{secrets.token_hex(6)}"


async def test_takes_up_to_the_limit_then_names_a_wait(store: RateLimits) -> None:
    who = caller()
    assert [await store.take(who, 5, 1) for _ in range(5)] == [0] * 5
    wait = await store.take(who, 5, 1)
    assert 1 <= wait <= 60
    assert await store.take(caller(), 5, 1) == 0  # another caller is not affected


async def test_a_cost_counts_whole(store: RateLimits) -> None:
    who = caller()
    assert await store.take(who, 10, 10) == 0
    assert await store.take(who, 10, 1) >= 1
    assert await store.take(caller(), 10, 7) == 0


async def test_zero_is_unlimited(store: RateLimits) -> None:
    who = caller()
    assert all([await store.take(who, 0, 1_000) == 0 for _ in range(20)])


def store_errors() -> float:
    return sum(
        sample.value
        for metric in metrics.RATE_LIMIT_STORE_ERRORS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


async def test_unreachable_redis_fails_open_to_this_process_limit() -> None:
    # Nothing listens on that port: every check of Redis fails at once.
    settings = isolated_settings(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", anonymous_rate_limit=5
    )
    await prepare_topics(settings, campaign_for_tests())
    running = await serve(settings)
    errors_before = store_errors()
    try:
        headers = {"X-Forwarded-For": "10.9.8.7"}
        async with httpx.AsyncClient(base_url=running.url, timeout=15, headers=headers) as client:
            await wait_ready(client, running.url)
            statuses = [
                (await client.post("/v1/actions", json=signature())).status_code for _ in range(7)
            ]
    finally:
        await running.stop()
        await drop_topics(settings)
    # Accepted (not 503): the campaign goes on; still limited, by this process alone.
    assert statuses == [202] * 5 + [429] * 2
    assert store_errors() > errors_before


async def test_checks_made_together_are_asked_together_and_stay_within_the_limit(
    store: RateLimits,
) -> None:
    who, other = caller(), caller()
    waits = await asyncio.gather(*(store.take(who, 20, 1) for _ in range(50)))
    others = await asyncio.gather(*(store.take(other, 20, 2) for _ in range(15)))
    assert waits.count(0) == 20 and all(wait >= 1 for wait in waits if wait)
    assert others.count(0) == 10
