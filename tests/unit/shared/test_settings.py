"""A child process given `settings.environment()` reads the very same settings."""

from __future__ import annotations

import pickle

import httpx
import pytest

from services.counter.settings import CounterSettings
from services.delivery.settings import DeliverySettings
from services.intake.settings import IntakeSettings
from shared.serve import uvicorn_options
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


def test_forwarded_addresses_are_believed_only_from_trusted_proxies() -> None:
    untrusting = uvicorn_options(ServiceSettings())
    assert untrusting["proxy_headers"] is False  # uvicorn's default would trust 127.0.0.1
    trusting = uvicorn_options(ServiceSettings(trusted_proxies=" 10.0.0.0/8, 192.0.2.7 "))
    assert (trusting["proxy_headers"], trusting["forwarded_allow_ips"]) == (
        True,
        "10.0.0.0/8,192.0.2.7",
    )


@pytest.mark.parametrize("value", ["10.0.0.1/8", "not-an-address", "10.0.0.0/8;1.2.3.4"])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"does not appear to be an IPv4 or IPv6|has host bits"):
        ServiceSettings(trusted_proxies=value)


def test_the_server_keeps_idle_connections_longer_than_the_clients_plume_ships() -> None:
    """The client must close an idle connection first: were the server to close it at the
    instant the client reused it, that request would fail (an httpx ReadError)."""
    client_expiry = httpx.Limits().keepalive_expiry  # as ops/ledger.py and bench/ use it
    assert client_expiry is not None
    options = uvicorn_options(ServiceSettings())
    assert options["timeout_keep_alive"] > client_expiry
    assert uvicorn_options(ServiceSettings(keep_alive_s=9))["timeout_keep_alive"] == 9
