"""Delivery opens the sealed fields of an action while its key exists; once the key is
destroyed the action keeps nothing personal (a signature without a name, no message)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import uuid4

import pytest

from services.delivery.adapters.opening import SealedFields
from services.delivery.domain.intake import sort_actions
from services.delivery.entrypoints.action_view import ActionRecord, ActionView, decode_action
from shared import sealing
from shared.db import Conn
from tests.unit.shared.fake_data_keys import FakeDataKeyStore

pytestmark = pytest.mark.unit
NOW = datetime(2025, 12, 10, tzinfo=UTC)
NO_CONN = cast(Conn, cast(Any, None))


def view(kind: str, key_id: str, fields: sealing.PersonalFields, secret: bytes) -> ActionView:
    action_id = uuid4()
    return ActionView(
        action_id=action_id,
        case_id="sonia-dahmani",
        type=kind,
        count=1,
        channel="web",
        supporter_key=key_id,
        share_name_with_target=True,
        sealed=sealing.seal(secret, action_id, fields),
        occurred_at=NOW,
        source="anonymous",
    )


async def test_sealed_fields_are_opened_while_the_key_exists_and_lost_after() -> None:
    keys = FakeDataKeyStore()
    awa, ben = (await keys.for_supporters(["awa", "ben"])).values()
    actions = [
        view("signature", awa.key_id, sealing.PersonalFields(name="Awa Diallo"), awa.secret),
        view(
            "solidarity_message", awa.key_id, sealing.PersonalFields("Awa", None, "Hi"), awa.secret
        ),
        view("signature", ben.key_id, sealing.PersonalFields(name="Ben Okri"), ben.secret),
    ]
    await keys.destroy(NO_CONN, "awa")
    opened = await SealedFields(keys).open(NO_CONN, actions)
    kept = sort_actions(opened)
    assert [s.name for s in kept.named] == ["Ben Okri"]
    assert [u.supporter_key for u in kept.unnamed] == [awa.key_id]  # counted, unnamed
    assert kept.messages == []  # the erased supporter's message is not kept


async def test_actions_written_before_sealing_keep_their_clear_fields() -> None:
    old = ActionView(
        action_id=uuid4(),
        case_id="c",
        type="signature",
        count=1,
        channel="web",
        supporter_key="hash",
        supporter_name="Clear Name",
        share_name_with_target=True,
        occurred_at=NOW,
        source="anonymous",
    )
    assert await SealedFields(FakeDataKeyStore()).open(NO_CONN, [old]) == [old]


async def test_a_sealed_value_its_key_cannot_open_keeps_nothing_personal() -> None:
    keys = FakeDataKeyStore()
    awa, ben = (await keys.for_supporters(["awa", "ben"])).values()
    forged = view("signature", awa.key_id, sealing.PersonalFields(name="Not Awa"), ben.secret)
    moved = view("signature", awa.key_id, sealing.PersonalFields(name="Awa Diallo"), awa.secret)
    moved = moved.model_copy(update={"action_id": uuid4()})  # bound to another action
    genuine = view("signature", ben.key_id, sealing.PersonalFields(name="Ben Okri"), ben.secret)
    again = view("signature", ben.key_id, sealing.PersonalFields(name="Ben O."), ben.secret)
    again = again.model_copy(update={"case_id": "another-case"})  # the same key, twice
    opened = await SealedFields(keys).open(NO_CONN, [forged, moved, genuine, again])
    assert [(a.supporter_name, a.sealed) for a in opened] == [
        (None, None),
        (None, None),
        ("Ben Okri", None),
        ("Ben O.", None),
    ]


async def test_the_consumers_records_are_opened_as_copies_the_records_left_sealed() -> None:
    """A batch whose transaction fails is processed again from the same records: opening
    must not have put the fields in clear on them (an erasure in between would then not
    be seen by the second opening)."""
    keys = FakeDataKeyStore()
    (awa,) = (await keys.for_supporters(["awa"])).values()
    fields = sealing.PersonalFields("Awa Diallo", None, "Courage")
    sealed = view("signature", awa.key_id, fields, awa.secret)
    record = decode_action(sealed.model_dump_json().encode())
    (opened,) = await SealedFields(keys).open(NO_CONN, [record])
    assert isinstance(opened, ActionRecord)
    assert (opened.supporter_name, opened.message, opened.sealed) == ("Awa Diallo", "Courage", None)
    assert opened.action_id == record.action_id and opened.case_id == record.case_id
    assert (record.supporter_name, record.message) == (None, None) and record.sealed
    await keys.destroy(NO_CONN, "awa")
    (again,) = await SealedFields(keys).open(NO_CONN, [record])
    assert (again.supporter_name, again.message, again.sealed) == (None, None, None)
