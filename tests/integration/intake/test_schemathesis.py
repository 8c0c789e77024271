"""Property-based run of the OpenAPI document against `plume serve intake` in its own
process (own topics, a key holding every actions scope): no generated input may get a 5xx,
and every answer must match what the document says."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

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

pytestmark = pytest.mark.integration

# The document comes from the app itself (no server needed to collect the tests).
schema = schemathesis.openapi.from_dict(
    openapi_document(IntakeSettings(supporter_key_secret="only-for-the-document"))
)


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[tuple[str, Keys]]:
    config = isolated_settings(anonymous_rate_limit=0)
    await prepare_topics(config, campaign_for_tests())
    keys = await create_keys(config.database_url)
    env = process_env(config)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from services.cli import main; main(['serve', 'intake'])", env=env
    )
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


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_input_gets_a_server_error(case: Any, served: tuple[str, Keys]) -> None:
    url, keys = served
    response = case.call(base_url=url, headers={"X-API-Key": keys.all_actions})
    case.validate_response(response, checks=[not_a_server_error])
