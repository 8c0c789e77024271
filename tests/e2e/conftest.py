"""Every end-to-end test goes through the running services of the local stack."""

from __future__ import annotations

import pytest

from tests.conftest import Stack


@pytest.fixture(autouse=True)
def _needs_stack(stack: Stack) -> Stack:
    return stack
