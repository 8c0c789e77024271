"""The port contract against the in-memory fakes."""

from __future__ import annotations

import pytest

from tests.unit.counter.fakes import FakeLedger, FakeMilestones, FakeTotals
from tests.unit.counter.ports_contract import Ports, PortsContract

pytestmark = pytest.mark.unit


class TestFakePorts(PortsContract):
    @pytest.fixture
    def ports(self) -> Ports:
        return Ports(FakeLedger(), FakeTotals(), FakeMilestones())
