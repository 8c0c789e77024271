from __future__ import annotations

import uuid

import pytest

from services.delivery.domain.ports import Outgoing
from shared.contracts.dossiers import DossierKind
from tests.unit.delivery.fakes import FakeTransmissionLedger
from tests.unit.delivery.ports_contract import LedgerContract, Seed

pytestmark = pytest.mark.unit


class TestFakeLedger(LedgerContract):
    @pytest.fixture
    def ledger(self) -> FakeTransmissionLedger:
        return FakeTransmissionLedger()

    @pytest.fixture
    def seed(self, ledger: FakeTransmissionLedger) -> Seed:
        async def add(channel: str, rendered: bool) -> uuid.UUID:
            destination = {"email": "a@example.org", "webhook": "http://127.0.0.1:1/"}
            outgoing = Outgoing(
                uuid.uuid4(),
                "case",
                "target",
                DossierKind.SIGNATURES,
                channel,
                destination.get(channel, ""),
                0,
                {"signatures.csv": "0" * 64},
            )
            return ledger.add(outgoing, rendered)

        return add
