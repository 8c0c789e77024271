"""What operators read: JSON log lines that follow an action by its request id through the
three services, and never a supporter's name or email, nor an API key, in a log line or
in /metrics."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ops.endpoints import temporary_keys
from shared.apikeys import Scope
from tests.conftest import REPO, Stack
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

HOME = Path(os.environ.get("PLUME_HOME", ".plume"))
LOG_DIR = (HOME if HOME.is_absolute() else REPO / HOME) / "log"


def log_lines(service: str) -> list[dict[str, object]]:
    """Every instance's lines (<service>.log, <service>-<i>.log with PLUME_*_INSTANCES)."""
    lines = []
    for log in [LOG_DIR / f"{service}.log", *sorted(LOG_DIR.glob(f"{service}-[0-9]*.log"))]:
        for raw in log.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    return lines


@pytest.fixture
async def writer_key() -> AsyncIterator[str]:
    async with temporary_keys("logs-test", {"web": {Scope.ACTIONS_WRITE}}) as keys:
        yield keys["web"]


async def test_a_heartbeat_is_followed_by_its_request_id_through_every_service() -> None:
    sent = [line for line in log_lines("intake") if line.get("msg") == "heartbeat sent"]
    assert sent, "intake logs each heartbeat it sends"
    request_id = str(sent[-1]["request_id"])

    async def services_that_saw_it() -> set[str]:
        seen = set()
        for service, msg in (("counter", "heartbeat counted"), ("delivery", "heartbeat seen")):
            if any(
                line.get("msg") == msg and line.get("request_id") == request_id
                for line in log_lines(service)
            ):
                seen.add(service)
        return seen

    await wait_until(services_that_saw_it, lambda seen: seen == {"counter", "delivery"}, within=30)


async def test_no_canary_name_email_or_key_in_logs_or_metrics(
    stack: Stack, writer_key: str
) -> None:
    canary = uuid.uuid4().hex[:10]
    name, email = f"Canary Qzx{canary}", f"canary-{canary}@example.org"
    message = f"Solidarity canary {canary}"
    async with httpx.AsyncClient(timeout=10) as client:
        before = (await client.get(f"{stack.counter_url}/v1/cases/damisoa/totals")).json()
        for kind, extra in (("signature", {}), ("solidarity_message", {"message": message})):
            answer = await client.post(
                f"{stack.intake_url}/v1/actions",
                headers={"X-API-Key": writer_key},
                json={
                    "case_id": "damisoa",
                    "type": kind,
                    "supporter": {"name": name, "email": email, "country": "FR"},
                    "consent": {"share_name_with_target": True, "contact": True},
                    **extra,
                },
            )
            assert answer.status_code == 202, answer.text
        # Invalid input too: error paths must not echo it into the logs either.
        bad = await client.post(
            f"{stack.intake_url}/v1/actions",
            json={
                "case_id": "damisoa",
                "type": "signature",
                "supporter": {"name": name, "email": f"not-an-email-{canary}", "country": "XX"},
            },
        )
        assert bad.status_code == 422

        async def total() -> int:
            body = (await client.get(f"{stack.counter_url}/v1/cases/damisoa/totals")).json()
            return int(body["total"])

        await wait_until(total, lambda now: now >= before["total"] + 2, within=30)
        metrics = {
            s: (await client.get(f"{url}/metrics")).text for s, url in stack.service_urls.items()
        }
    for service in ("intake", "counter", "delivery"):
        text = (LOG_DIR / f"{service}.log").read_text(errors="replace") + metrics[service]
        for secret in (canary, writer_key):
            # the canary is in the name, the email (valid and invalid) and the message
            assert secret not in text, f"{service} logs or metrics show personal data or a key"
