"""X-Forwarded-For names the client only when a trusted proxy sends it (issue 13, item 6):
from any other peer, forged addresses do not spread one caller over many, so the anonymous
per-address limit holds; from a trusted proxy, each forwarded address has its own limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from tests.integration.intake.conftest import (
    OPEN_CASE,
    RunningIntake,
    isolated_settings,
    served_intake,
)

pytestmark = pytest.mark.integration
LIMIT = 3  # anonymous actions per minute per client address


@pytest.fixture(params=["", "127.0.0.0/8"], ids=["untrusted", "trusted"])
async def intake(request: pytest.FixtureRequest) -> AsyncIterator[RunningIntake]:
    # Counted in this process alone: Redis may hold other tests' counts for 127.0.0.1.
    settings = isolated_settings(
        anonymous_rate_limit=LIMIT, trusted_proxies=request.param, redis_url=""
    )
    async with served_intake(settings) as running:
        yield running


async def post_from(client: httpx.AsyncClient, forwarded_for: str) -> int:
    action = {"action_id": str(uuid4()), "case_id": OPEN_CASE, "type": "letter"}
    headers = {"X-Forwarded-For": forwarded_for}
    answer = await client.post("/v1/actions", json=action, headers=headers)
    return answer.status_code


async def test_forged_addresses_escape_the_anonymous_limit_only_through_a_trusted_proxy(
    intake: RunningIntake,
) -> None:
    forged = [f"198.51.100.{i}" for i in range(1, 2 * LIMIT + 1)]  # one caller, many "clients"
    async with httpx.AsyncClient(base_url=intake.url, timeout=10) as client:
        statuses = [await post_from(client, address) for address in forged]
        again = [await post_from(client, forged[0]) for _ in range(LIMIT)]
    if not intake.settings.trusted_proxies:  # the peer (127.0.0.1) is the one client
        assert statuses == [202] * LIMIT + [429] * LIMIT
    else:  # each forwarded address is a client of its own, with its own limit
        assert statuses == [202] * (2 * LIMIT)
        assert again == [202] * (LIMIT - 1) + [429]
