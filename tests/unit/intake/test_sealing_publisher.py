"""What intake writes to Kafka for an action of a supporter: their personal fields sealed
with their data key, their id on the wire the key's (random) id, never the email's hash."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest

from services.intake.adapters.sealing_publisher import SealingPublisher
from services.intake.domain.actions import heartbeat
from services.intake.domain.ports import PublishUnavailable
from shared import sealing
from shared.contracts.action_record import ActionRecord, encode_record, record_of
from shared.contracts.actions import ActionEvent, ActionType, Channel, Tracking
from shared.data_keys import DataKey
from tests.unit.intake.fakes import FakePublisher
from tests.unit.shared.fake_data_keys import FakeDataKeyStore

pytestmark = pytest.mark.unit
NOW = datetime(2025, 12, 10, tzinfo=UTC)


def action(lookup: str | None, **fields: object) -> ActionRecord:
    return record_of(
        ActionEvent(
            action_id=uuid4(),
            case_id="sonia-dahmani",
            type=ActionType.SOLIDARITY_MESSAGE,
            count=1,
            channel=Channel.WEB,
            supporter_key=lookup,
            occurred_at=NOW,
            accepted_at=NOW,
            source="anonymous",
            **fields,
        )
    )


async def test_personal_fields_are_sealed_with_the_supporters_key() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    event = action(
        "hash-of-awa",
        supporter_name="Awa",
        supporter_email="a@x.org",
        message="Hi",
        tracking=Tracking(utm_source="newsletter"),
        language="fr-SN",
        request_id="req-1",
        network_hash="0123456789abcdef",
    )
    await SealingPublisher(keys, kafka).publish([event])
    (written,) = kafka.events
    key = keys.by_lookup["hash-of-awa"]
    assert written.supporter_key == key.key_id
    assert (written.supporter_name, written.supporter_email, written.message) == (None,) * 3
    assert written.sealed is not None
    opened = sealing.open_sealed(key.secret, written.action_id, written.sealed)
    assert opened == sealing.PersonalFields("Awa", "a@x.org", "Hi")
    assert b"Awa" not in encode_record(written) and b"hash-of-awa" not in encode_record(written)
    ((kafka_key, value),) = kafka.records  # as written: keyed by the data key's id
    assert kafka_key == key.key_id.encode()
    assert b"Awa" not in value and b"a@x.org" not in value and b"hash-of-awa" not in value
    # Every other field of the event reaches the wire as it was.
    cleared = {"supporter_name": None, "supporter_email": None, "message": None}
    update = {**cleared, "supporter_key": key.key_id, "sealed": written.sealed}
    assert written == msgspec.structs.replace(event, **update)


async def test_one_supporter_one_key_for_all_their_actions() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    sealed = SealingPublisher(keys, kafka)
    await sealed.publish([action("hash-1", message="a"), action("hash-1", message="b")])
    await sealed.publish([action("hash-1", message="c")])
    assert len({e.supporter_key for e in kafka.events}) == 1


async def test_actions_without_a_supporter_pass_as_they_are() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    beat, tally = heartbeat(NOW), action(None, message="from a marathon")
    await SealingPublisher(keys, kafka).publish([beat, tally])
    assert kafka.events == [beat, tally] and not keys.by_lookup


async def test_a_supporter_without_personal_fields_gets_an_id_and_nothing_sealed() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    await SealingPublisher(keys, kafka).publish([action("hash-2")])
    (written,) = kafka.events
    assert written.supporter_key == keys.by_lookup["hash-2"].key_id and written.sealed is None


async def test_consent_to_contact_is_recorded_with_the_key_it_keeps() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    await SealingPublisher(keys, kafka).publish(
        [action("hash-c", supporter_email="c@x.org", contact=True), action("hash-n")]
    )
    assert keys.contact == {"hash-c"}


class UnreachableKeys:
    async def for_supporters(self, lookups: object, contact: object = ()) -> dict[str, DataKey]:
        raise OSError("connection refused")


async def test_keys_out_of_reach_is_a_refused_write_not_a_clear_one() -> None:
    kafka = FakePublisher()
    with pytest.raises(PublishUnavailable):
        await SealingPublisher(UnreachableKeys(), kafka).publish([action("h", message="x")])
    assert kafka.events == []


async def test_each_action_of_a_batch_is_sealed_with_a_nonce_of_its_own() -> None:
    keys, kafka = FakeDataKeyStore(), FakePublisher()
    await SealingPublisher(keys, kafka).publish([action("hash-1", message="a")] * 200)
    nonces = {base64.urlsafe_b64decode(e.sealed or "")[: sealing.NONCE_BYTES] for e in kafka.events}
    assert len(nonces) == 200
