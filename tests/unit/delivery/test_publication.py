"""Event publication as a use case, through fakes of its ports: queued status events are
published in order, then marked; when publishing fails they stay queued and go out
again with the same event ids."""

from __future__ import annotations

import uuid

import orjson
import pytest

from services.delivery.domain.ports import Outgoing
from services.delivery.service import publish_events
from shared.contracts.dossiers import DossierKind
from shared.kafka import encode
from tests.unit.delivery.fakes import FakePublisher, FakeTransmissionLedger

pytestmark = pytest.mark.unit


def sealed_solidarity_dossier(ledger: FakeTransmissionLedger) -> uuid.UUID:
    """Queues its `sealed` event."""
    outgoing = Outgoing(uuid.uuid4(), "a", "a", DossierKind.SOLIDARITY, "manual", "", 0)
    return ledger.add(outgoing)


async def test_queued_events_are_published_in_order_then_marked() -> None:
    ledger, publisher = FakeTransmissionLedger(), FakePublisher()
    dossier_id = sealed_solidarity_dossier(ledger)
    await ledger.acknowledge(dossier_id, "team", None)

    assert await publish_events(ledger, publisher) == 2
    assert await publish_events(ledger, publisher) == 0

    assert [(e.event_id, e.status) for e in publisher.published] == [
        (1, "sealed"),
        (2, "acknowledged"),
    ]
    wire = orjson.loads(encode(publisher.published[0]))
    assert wire["kind"] == "solidarity"  # the enum is its text on the wire
    assert wire["dossier_id"] == str(dossier_id) and wire["case_id"] == "a"
    assert await ledger.unpublished(10) == []


async def test_events_whose_publishing_failed_go_out_again_with_the_same_ids() -> None:
    ledger, publisher = FakeTransmissionLedger(), FakePublisher()
    sealed_solidarity_dossier(ledger)
    publisher.fail = True
    with pytest.raises(ConnectionError):
        await publish_events(ledger, publisher)
    assert [e.event_id for e in await ledger.unpublished(10)] == [1]

    publisher.fail = False
    assert await publish_events(ledger, publisher) == 1
    assert [e.event_id for e in publisher.published] == [1]
