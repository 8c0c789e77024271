"""The walking skeleton: one signature through intake, Kafka and counter, and the
operational endpoints of all three services."""

from __future__ import annotations

import time
from uuid import UUID, uuid4

import httpx
import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.e2e
CASE = "sonia-dahmani"
COUNT_DEADLINE_S = 10.0
POLL_EVERY_S = 0.05


def case_total(client: httpx.Client, stack: Stack) -> int:
    answer = client.get(f"{stack.counter_url}/v1/cases/{CASE}/totals")
    assert answer.status_code == 200, answer.text
    total = answer.json()["total"]
    assert isinstance(total, int)
    return total


def test_one_signature_raises_the_case_total_by_one(stack: Stack) -> None:
    with httpx.Client(timeout=5.0) as client:
        before = case_total(client, stack)
        answer = client.post(
            f"{stack.intake_url}/v1/actions",
            json={
                "case_id": CASE,
                "type": "signature",
                "supporter": {
                    "name": "Walking Skeleton",
                    "email": f"skeleton-{uuid4().hex}@example.org",
                    "country": "FR",
                },
                "consent": {"share_name_with_target": True},
            },
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "accepted"
        UUID(body["action_id"])

        deadline = time.monotonic() + COUNT_DEADLINE_S
        after = case_total(client, stack)
        while after == before and time.monotonic() < deadline:
            time.sleep(POLL_EVERY_S)
            after = case_total(client, stack)
        assert after == before + 1, f"total went from {before} to {after}"


@pytest.mark.parametrize("service", ["intake", "counter", "delivery"])
def test_each_service_is_healthy_ready_and_exposes_metrics(stack: Stack, service: str) -> None:
    base = stack.service_urls[service]
    with httpx.Client(timeout=5.0) as client:
        assert client.get(f"{base}/healthz").status_code == 200
        assert client.get(f"{base}/readyz").status_code == 200
        metrics = client.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in metrics.text
