"""Every integration test runs against the real Kafka and PostgreSQL of the local stack."""

from __future__ import annotations

import pytest

from tests.conftest import Stack


@pytest.fixture(autouse=True)
def _needs_stack(stack: Stack) -> Stack:
    return stack
