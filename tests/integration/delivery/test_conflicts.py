"""One action_id, two different actions (issue 9): delivery stored both, so a dossier held a
name that no total counted. The first accepted owns the id; a later, different action
under it is refused (dead letter + metric); an identical replay stays silent."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from shared.contracts.actions import ActionEvent, ActionType
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, publish, serving, signature, stored
from tests.readback import read_dead_letters
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
TARGET = {"id": "t", "name": "T", "country": "TN", "language": "fr"}


def replay(event: ActionEvent) -> ActionEvent:
    """The same action sent again (a client's retry): accepted later, another request."""
    later = event.accepted_at + timedelta(minutes=3)
    return event.model_copy(update={"accepted_at": later, "request_id": uuid4().hex})


async def test_a_later_different_action_under_a_known_id_is_dead_lettered(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1)
    case_a, case_b = (f"case-{x}-" + settings.db_schema[-10:] for x in "ab")
    first = signature(case_a, "k1", "Awa Diallo")
    other = signature(case_b, "k2", "Not Counted", "DE").model_copy(
        update={"action_id": first.action_id}
    )
    letter = signature(case_a, "k3", "A Letter").model_copy(update={"type": ActionType.LETTER})
    cases = [case(case_a, [TARGET]), case(case_b, [TARGET])]
    await publish(settings, cases, [first, other, replay(first), letter])
    before = await conflicts()  # this process's: other tests may add to it
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)
        as_signature = signature(case_b, "k4", "Under A Letter's Id").model_copy(
            update={"action_id": letter.action_id}
        )
        await publish(settings, [], [as_signature, replay(first), replay(letter)])
        letters = await wait_until(
            lambda: read_dead_letters(settings.kafka_bootstrap, settings.dlq_topic),
            lambda found: len(found) >= 2,
        )
        assert sorted(d.offset for d in letters) == [1, 4]
        assert {d.error for d in letters} == {
            "action_id already taken by a different action (the first accepted owns it)"
        }
        await wait_until(conflicts, lambda n: n == before + 2)
        metrics = (await client.get("/metrics")).text
        assert f"plume_delivery_conflicting_actions_total {before + 2}" in metrics
    assert await stored(settings, "signatures") == 1, "only the first action's is kept"


async def conflicts() -> float:
    return REGISTRY.get_sample_value("plume_delivery_conflicting_actions_total") or 0.0


async def test_a_heartbeat_in_the_batch_neither_stores_nor_shifts_the_refused_record(
    make_settings: MakeSettings,
) -> None:
    """Heartbeats are left out of what a batch stores: the record refused after one must
    still be the conflicting one, and the signature after it stored."""
    settings = await make_settings(partitions=1)
    case_a = "case-hb-" + settings.db_schema[-10:]
    first = signature(case_a, "k1", "Awa Diallo")
    beat = signature(case_a, "k0", "Nobody").model_copy(
        update={
            "heartbeat": True,
            "type": ActionType.TWEET,
            "supporter_key": None,
            "supporter_name": None,
            "source": "heartbeat",
        }
    )
    other = signature(case_a, "k2", "Not Counted").model_copy(update={"action_id": first.action_id})
    after = signature(case_a, "k3", "Stored After")
    await publish(settings, [case(case_a, [TARGET])], [first, beat, other, after])
    async with serving(settings):
        letters = await wait_until(
            lambda: read_dead_letters(settings.kafka_bootstrap, settings.dlq_topic),
            lambda found: len(found) >= 1,
        )
        assert [d.offset for d in letters] == [2]
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 2)
