"""One bad action never stops delivery (issue 9): actions delivery cannot store, written
straight to the topic between good ones, are set aside in the dead-letter topic with
their error; every good one is stored, and readiness stays true."""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from shared.contracts.actions import ActionEvent, ActionType
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, publish, serving, signature, stored
from tests.readback import read_dead_letters
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
# The action of the report: before year 1 once in UTC. Intake refuses it now; a record
# already in the topic, or written by another producer, must still not stop delivery.
DEAD_LETTERS = "plume_delivery_dead_letters_total"
YEAR_ONE = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))


async def test_actions_delivery_cannot_store_are_dead_lettered_between_good_ones(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1)
    case_id = "case-" + settings.db_schema[-10:]
    target = {"id": "t", "name": "T", "country": "TN", "language": "fr"}
    good = [signature(case_id, f"k{i}", f"Name {i}") for i in range(6)]
    message = signature(case_id, "m1", "Awa Diallo").model_copy(
        update={"type": ActionType.SOLIDARITY_MESSAGE, "message": "Courage"}
    )
    refused = [
        signature(case_id, "b1", "Year One").model_copy(update={"occurred_at": YEAR_ONE}),
        signature(case_id, "b2", "Nul\x00Byte"),
        message.model_copy(update={"message": "a NUL\x00byte", "action_id": uuid4()}),
        signature(case_id, os.urandom(6_000).hex(), "Too Long Key"),
    ]
    actions: list[ActionEvent | bytes] = [good[0], refused[0], good[1], refused[1], b"{not json"]
    actions += [good[2], refused[2], good[3], message, refused[3], good[4], good[5]]
    await publish(settings, [case(case_id, [target])], actions)
    before = await written()  # this process's: other tests add to it too
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == len(good))
        await wait_until(lambda: stored(settings, "solidarity_messages"), lambda n: n == 1)
        letters = await wait_until(
            lambda: read_dead_letters(settings.kafka_bootstrap, settings.dlq_topic),
            lambda found: len(found) >= 5,
        )
        assert sorted(d.offset for d in letters) == [1, 3, 4, 6, 9]
        errors = {d.offset: d.error for d in letters}
        assert errors[1] == (
            "DataError [22000]: invalid input for query argument $5 (date value out of range)"
        )
        assert errors[3].startswith("CharacterNotInRepertoireError [22021]")
        assert errors[4] == "1 validation errors: value json_invalid"
        assert errors[6].startswith("CharacterNotInRepertoireError [22021]")
        assert errors[9].startswith("ProgramLimitExceededError [54000]")
        assert all("Nul" not in e and "NUL" not in e for e in errors.values())
        assert base64.b64decode(letters[0].value_base64 or "").startswith(b'{"schema_version"')
        await wait_until(written, lambda n: n == before + 5)
        metrics = (await client.get("/metrics")).text
        assert f"{DEAD_LETTERS} {before + 5}" in metrics
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
    assert await stored(settings, "signatures") == len(good)


async def written() -> float:
    return REGISTRY.get_sample_value(DEAD_LETTERS) or 0.0
