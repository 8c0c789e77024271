"""A child process given `settings.environment()` reads the very same settings."""

from __future__ import annotations

import pickle

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


def test_each_service_s_http_limits_come_from_its_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLUME_COUNTER_HTTP_MAX_HEADERS", "50")
    monkeypatch.setenv("PLUME_COUNTER_HTTP_BODY_MIN_RATE", "0")
    limits = CounterSettings().http_limits()
    assert (limits.service, limits.max_headers, limits.body_min_rate) == ("counter", 50, 0)
    assert DeliverySettings().http_limits().max_headers == 100
    # uvicorn's `http` option, picklable for intake's worker processes
    protocol = pickle.loads(pickle.dumps(limits.protocol()))
    assert protocol.keywords["limits"] == limits
