"""Health, readiness, metrics, CORS, the OpenAPI and AsyncAPI documents, and that no
personal data reaches a log line or a metric."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from shared.logs import JsonFormatter
from tests.integration.intake.conftest import RunningIntake
from tests.integration.intake.readback import read_actions
from tests.integration.intake.test_status_table import signature
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ORIGIN = "https://write.example.org"


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.post("/v1/actions", json=signature())).status_code == 202
    assert (await client.post("/v1/actions", json=signature(type="petition"))).status_code == 422
    text = (await client.get("/metrics")).text
    assert 'plume_intake_actions_rejected_total{reason="invalid"}' in text
    assert 'plume_intake_actions_accepted_total{channel="web",type="signature"}' in text
    assert "plume_intake_kafka_produce_seconds_bucket" in text
    assert 'plume_http_request_duration_seconds_bucket{le="0.025",method="POST"' in text
    assert 'route="/v1/actions"' in text


async def test_cors_for_configured_origins_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = await client.options("/v1/actions", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    refused = await client.options(
        "/v1/actions", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in refused.headers
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "Disallowed CORS origin"


async def test_openapi_documents_the_bodies_and_answers(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    post = document["paths"]["/v1/actions"]["post"]
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    assert schema_ref.rsplit("/", 1)[-1] in schemas
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(
        post["responses"]
    )
    assert "/v1/actions/batch" in document["paths"] and "/v1/cases" in document["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_asyncapi_describes_the_actions_topic(client: httpx.AsyncClient) -> None:
    document = (await client.get("/asyncapi.json")).json()
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in document["channels"].values()}
    assert {"plume.actions.v1", "plume.cases.v1"} <= addresses
    assert "supporter_key" in document["components"]["schemas"]["ActionEvent"]["properties"]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter("intake"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


async def test_no_name_email_or_key_in_logs_or_metrics(
    client: httpx.AsyncClient, captured_logs: _Capture
) -> None:
    body = signature(consent={"share_name_with_target": True, "contact": True})
    body["supporter"]["name"] = "Zebulon Quixotic"
    secret_key = "plume_not-a-real-key-but-secret"
    await client.post("/v1/actions", json=body)
    await client.post("/v1/actions", json=body, headers={"X-API-Key": secret_key})
    bad = signature()
    bad["supporter"]["name"] = "Zebulon =Quixotic"
    await client.post("/v1/actions", json=bad)
    metrics = (await client.get("/metrics")).text
    logs = "\n".join(captured_logs.lines)
    for personal in ("Zebulon", body["supporter"]["email"], secret_key):
        assert personal not in logs
        assert personal not in metrics


async def test_heartbeats_reach_the_actions_topic(intake: RunningIntake) -> None:
    settings = intake.settings

    async def heartbeats() -> int:
        written = await read_actions(settings.kafka_bootstrap, settings.actions_topic)
        return sum(1 for _, event in written if event.heartbeat)

    await wait_until(heartbeats, lambda n: n >= 2, within=15, every=0.2)
