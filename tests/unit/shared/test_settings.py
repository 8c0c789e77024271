"""A child process given `settings.environment()` reads the very same settings."""

from __future__ import annotations

import pytest

from services.counter.settings import CounterSettings
from services.delivery.settings import DeliverySettings
from services.intake.settings import IntakeSettings
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "settings",
    [
        CounterSettings(db_schema="counter_x", max_batch=7, refresh_interval_s=0.5),
        IntakeSettings(
            supporter_key_secret="s" * 16,
            cors_origins=["https://write.example.org"],
            workers=3,
            log_level="WARNING",
        ),
        DeliverySettings(),
    ],
    ids=type,
)
def test_environment_round_trips(
    settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in settings.environment().items():
        monkeypatch.setenv(variable, value)
    assert type(settings)() == settings
