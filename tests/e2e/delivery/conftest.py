"""Delivery crash tests run `plume serve delivery` themselves, on their own schema and
topics; they need only Kafka and PostgreSQL of the stack, not the running services."""

from __future__ import annotations

import pytest

from tests.integration.delivery.conftest import make_settings

__all__ = ["make_settings"]


@pytest.fixture(autouse=True)
def _needs_stack() -> None:
    """Overrides tests/e2e/conftest.py."""
