"""The running intake of the local stack: the default campaign's cases, a signature on
the wire carrying only what the supporter consented to, and the documents it serves."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import httpx
import pytest
from aiokafka import TopicPartition

from shared.contracts.actions import ActionEvent
from shared.kafka import decode, manual_consumer
from shared.topics import ACTIONS, spec_of
from tests.conftest import Stack

pytestmark = pytest.mark.e2e


async def test_cases_of_the_default_campaign_with_targets(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=10) as client:
        answer = await client.get("/v1/cases")
    assert answer.status_code == 200
    cases = answer.json()["cases"]
    assert "sonia-dahmani" in {case["id"] for case in cases}
    assert all(case["targets"] and case["status"] in ("open", "closed") for case in cases)


async def test_a_signature_on_the_wire_carries_only_consented_data(stack: Stack) -> None:
    partitions = [TopicPartition(ACTIONS, p) for p in range(spec_of(ACTIONS).partitions)]
    consumer = manual_consumer(stack.kafka_bootstrap, None, "test-e2e-intake")
    await consumer.start()
    try:
        consumer.assign(partitions)
        start = await consumer.end_offsets(partitions)
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        email = f"E2E-{uuid4().hex}@Example.org"
        body = {
            "case_id": "sonia-dahmani",
            "type": "signature",
            "supporter": {"name": "End To End", "email": email, "country": "FR"},
            "consent": {"share_name_with_target": False, "contact": False},
        }
        async with httpx.AsyncClient(base_url=stack.intake_url, timeout=10) as client:
            answer = await client.post("/v1/actions", json=body)
        assert answer.status_code == 202, answer.text
        action_id = answer.json()["action_id"]
        event = await asyncio.wait_for(_find(consumer, action_id), 15)
    finally:
        await consumer.stop()
    assert event.supporter_name is None and event.supporter_email is None
    # The supporter's id on the wire is their data key's random id, not the email's hash.
    assert event.supporter_key and len(event.supporter_key) == 32
    assert event.sealed is None  # nothing personal was consented to travel: nothing sealed
    assert email.lower() not in event.model_dump_json().lower()
    assert event.channel == "web" and event.country == "FR"


async def _find(consumer: object, action_id: str) -> ActionEvent:
    while True:
        batches = await consumer.getmany(timeout_ms=200)  # type: ignore[attr-defined]
        for records in batches.values():
            for record in records:
                event = decode(ActionEvent, record.value)
                if str(event.action_id) == action_id:
                    return event


async def test_the_documents_are_served(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=10) as client:
        openapi = (await client.get("/openapi.json")).json()
        asyncapi = (await client.get("/asyncapi.json")).json()
    assert "/v1/actions" in openapi["paths"]
    assert asyncapi["asyncapi"].startswith("3.")
