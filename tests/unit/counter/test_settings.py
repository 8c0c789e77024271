"""The counter's settings renamed in this release are still read under their old names."""

from __future__ import annotations

import logging

import pytest

from services.counter.settings import CounterSettings

pytestmark = pytest.mark.unit


def test_the_old_pool_size_variable_still_sets_db_pool_size(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PLUME_COUNTER_POOL_SIZE", "5")
    with caplog.at_level(logging.WARNING):
        assert CounterSettings().db_pool_size == 5
    assert "setting renamed: use the new name" in caplog.messages


def test_the_new_name_wins_over_the_old(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUME_COUNTER_POOL_SIZE", "5")
    monkeypatch.setenv("PLUME_COUNTER_DB_POOL_SIZE", "6")
    assert CounterSettings().db_pool_size == 6


def test_the_old_keyword_still_works() -> None:
    assert CounterSettings(pool_size=3).db_pool_size == 3
