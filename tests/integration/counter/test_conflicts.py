"""One action_id, two different actions (issue 9): the first accepted owns the id; a later,
different action under it is refused (dead letter + metric), in the same batch or a later
one; an identical replay stays silent and counts once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from shared.contracts.actions import ActionEvent, ActionType
from tests.integration.counter.conftest import MakeSettings
from tests.integration.counter.helpers import CounterProcess, produce, wait_for_totals
from tests.readback import read_dead_letters
from tests.unit.counter.builders import ACCEPTED, signature
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def replay(event: ActionEvent) -> ActionEvent:
    """The same action sent again (a client's retry): accepted later, another request."""
    later = ACCEPTED + timedelta(minutes=3)
    return event.model_copy(update={"accepted_at": later, "request_id": uuid4().hex})


async def test_a_later_different_action_under_a_known_id_is_dead_lettered(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = await make_settings(partitions=1)
    first = signature("case-a", "key-1")
    other_case = signature("case-b", "key-2", action_id=first.action_id)  # same batch
    second = signature("case-a", "key-3")
    await produce(settings, [first, other_case, replay(first), second])
    counter = await CounterProcess(settings, tmp_path).start()
    try:
        await wait_for_totals(settings, {"case-a": 2})
        other_type = first.model_copy(update={"type": ActionType.LETTER, "supporter_key": None})
        other_count = second.model_copy(update={"type": ActionType.LETTER, "count": 7})
        await produce(settings, [replay(second), other_type, other_count, replay(first)])
        letters = await wait_until(
            lambda: read_dead_letters(settings.kafka_bootstrap, settings.dlq_topic),
            lambda found: len(found) >= 3,
        )
        assert sorted(d.offset for d in letters) == [1, 5, 6]
        assert {d.error for d in letters} == {
            "action_id already taken by a different action (the first accepted owns it)"
        }
        await wait_until(
            lambda: counter.metric("plume_counter_conflicting_actions_total"), lambda n: n == 3
        )
        assert await counter.metric("plume_counter_dead_letters_total") == 3
        await wait_for_totals(settings, {"case-a": 2})
    finally:
        counter.stop()
