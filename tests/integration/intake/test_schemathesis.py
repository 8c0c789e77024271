"""Property-based run of the OpenAPI document against `plume serve intake` in its own
process (own topics, its own keys): no generated input may get a 5xx, and every answer must
match what the document says (status code, content type, body schema, headers), for each
kind of caller: a key holding every actions scope, a key with a small rate limit and only
actions:batch, no key (anonymous, rate-limited per address) and unknown keys (throttled)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.intake.bootstrap import openapi_document
from services.intake.settings import IntakeSettings
from tests.integration.intake.conftest import (
    Keys,
    campaign_for_tests,
    create_keys,
    drop_topics,
    isolated_settings,
    prepare_topics,
    process_env,
    revoke_keys,
    wait_ready,
)
from tests.serving import REPO, serve_command

pytestmark = pytest.mark.integration

# The document comes from the app itself (no server needed to collect the tests).
schema = schemathesis.openapi.from_dict(
    openapi_document(IntakeSettings(supporter_key_secret="only-for-the-document"))
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
FEW = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[tuple[str, Keys]]:
    config = isolated_settings(anonymous_rate_limit=5, key_guess_limit=5)
    await prepare_topics(config, campaign_for_tests())
    keys = await create_keys(config.database_url)
    env = process_env(config)
    process = await asyncio.create_subprocess_exec(*serve_command("intake"), env=env, cwd=REPO)
    url = f"http://127.0.0.1:{config.port}"
    try:
        async with httpx.AsyncClient() as client:
            await wait_ready(client, url, within=60, exited=lambda: process.returncode is not None)
        yield url, keys
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await drop_topics(config)
        await revoke_keys(config.database_url, keys)


def call_as(case: Any, url: str, caller: int, key: str | None = None) -> None:
    """Send `case` with `key` (never a generated one), from the client address of this kind
    of caller (127.0.0.1 is a trusted proxy in isolated_settings, so each kind has its own
    rate limits), and check the answer against the document."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
    headers = {"X-Forwarded-For": f"10.9.0.{caller}"}
    if key is not None:
        headers["X-API-Key"] = key
    response = case.call(base_url=url, headers=headers)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_answers_to_a_key_with_every_scope_match_the_document(
    case: Any, served: tuple[str, Keys]
) -> None:
    url, keys = served
    call_as(case, url, 1, keys.all_actions)


@schema.parametrize()
@FEW
def test_answers_to_a_rate_limited_batch_key_match_the_document(
    case: Any, served: tuple[str, Keys]
) -> None:
    url, keys = served
    call_as(case, url, 2, keys.batch_limited)


@schema.parametrize()
@FEW
def test_answers_without_a_key_match_the_document(case: Any, served: tuple[str, Keys]) -> None:
    url, _ = served
    call_as(case, url, 3)


@schema.parametrize()
@FEW
def test_answers_to_unknown_keys_match_the_document(case: Any, served: tuple[str, Keys]) -> None:
    url, _ = served
    call_as(case, url, 4, secrets.token_urlsafe(24))
