"""Delivery settings: the webhook secret has no usable default (with a webhook target in
the catalogue and no secret, delivery refuses to start, saying which variable to set);
renamed settings are still read under their old names."""

from __future__ import annotations

import pytest

from services.delivery.domain.addressees import WebhookSecretMissing
from services.delivery.service import check_webhook_secret
from services.delivery.settings import DeliverySettings
from tests.unit.delivery.fakes import FakeCatalogue, case_record

pytestmark = pytest.mark.unit


async def test_a_webhook_target_without_a_secret_refuses_the_start() -> None:
    catalogue = FakeCatalogue(case_record("a"), case_record("b", channels=("email", "webhook")))

    with pytest.raises(WebhookSecretMissing) as refused:
        await check_webhook_secret(catalogue, secret_set=False, wait_s=1.0)

    assert "PLUME_DELIVERY_WEBHOOK_SECRET is not set" in str(refused.value)
    assert "b/t2" in str(refused.value)


async def test_a_secret_or_no_webhook_target_lets_it_start() -> None:
    with_webhook = FakeCatalogue(case_record("b", channels=("webhook",)))
    await check_webhook_secret(with_webhook, secret_set=True, wait_s=1.0)
    without = FakeCatalogue(case_record("a", channels=("manual", "email")))
    await check_webhook_secret(without, secret_set=False, wait_s=1.0)


def test_no_secret_is_set_by_default_and_an_empty_one_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLUME_DELIVERY_WEBHOOK_SECRET", raising=False)
    assert DeliverySettings().webhook_secret is None
    monkeypatch.setenv("PLUME_DELIVERY_WEBHOOK_SECRET", "")
    assert DeliverySettings().webhook_secret is None
    monkeypatch.setenv("PLUME_DELIVERY_WEBHOOK_SECRET", "s3cret")
    secret = DeliverySettings().webhook_secret
    assert secret is not None and secret.get_secret_value() == "s3cret"


def test_renamed_settings_are_still_read_under_their_old_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLUME_DELIVERY_CONSUMER_GROUP", "old-group")
    monkeypatch.setenv("PLUME_DELIVERY_CUT_MAX_AGE_SECONDS", "60")
    settings = DeliverySettings(retry_base_seconds=0.5)

    assert settings.group_id == "old-group"
    assert settings.cut_max_age_s == 60
    assert settings.retry_base_s == 0.5


def test_data_keys_are_kept_at_least_as_long_as_the_actions_topic_keeps_actions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLUME_ACTIONS_RETENTION_DAYS", "14")
    assert DeliverySettings(data_key_retention_days=14).data_key_retention_days == 14
    with pytest.raises(ValueError, match="must be at least PLUME_ACTIONS_RETENTION_DAYS"):
        DeliverySettings(data_key_retention_days=10)
