"""Readiness tells the truth (issue 10): with its consumer loop and its catalogue
follower killed, delivery's /readyz answers 503 naming both, then, once the supervisor
has restarted them, 200 again, and both work: an action is stored, a new case is known.
And delivery does not start at all with a webhook target and no secret to sign with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import SecretStr

from services.delivery.bootstrap import Delivery, running
from services.delivery.domain.addressees import WebhookSecretMissing
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, publish, serving_app, signature, stored
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
TARGET = {"id": "t", "name": "T", "country": "TN", "language": "fr"}


async def test_readyz_names_a_killed_consumer_and_catalogue_follower_then_recovers(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1)
    async with serving_app(settings) as (client, app):

        async def readyz() -> httpx.Response:
            return await client.get("/readyz")

        await wait_until(readyz, lambda r: r.status_code == 200, within=60)
        delivery: Delivery = app.state.delivery
        for name in ("consumer", "catalogue"):
            task = delivery.supervisor.task(name)
            assert task is not None
            task.cancel()

        # Both were cancelled at once, but the supervisor may record one death a moment
        # before the other: wait for the answer that has heard of both.
        down = await wait_until(readyz, names_both_down, within=10, every=0.02)
        assert down.headers["content-type"] == "application/problem+json"
        detail = down.json()["detail"]
        assert "consumer is down" in detail and "catalogue is down" in detail

        await wait_until(readyz, lambda r: r.status_code == 200, within=30)
        case_id = "case-" + settings.db_schema[-10:]
        await publish(settings, [case(case_id, [TARGET])], [signature(case_id, "k1", "Ana")])
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)
        await wait_until(_known(delivery, case_id))


def _known(delivery: Delivery, case_id: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return delivery.catalog.get(case_id) is not None

    return probe


async def test_delivery_refuses_to_start_with_a_webhook_target_and_no_secret(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1, webhook_secret=None)
    case_id = "case-" + settings.db_schema[-10:]
    hook = {"channel": "webhook", "url": "https://receiver.example.org/hook"}
    await publish(settings, [case(case_id, [TARGET | {"delivery": hook}])], [])

    with pytest.raises(WebhookSecretMissing, match="PLUME_DELIVERY_WEBHOOK_SECRET is not set"):
        async with running(settings):
            pass

    signed = settings.model_copy(update={"webhook_secret": SecretStr("s3cret")})
    async with running(signed) as delivery:
        assert delivery.catalog.get(case_id) is not None


def names_both_down(answer: httpx.Response) -> bool:
    detail = str(answer.json().get("detail", "")) if answer.status_code == 503 else ""
    return "consumer is down" in detail and "catalogue is down" in detail
