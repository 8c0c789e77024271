"""The benchmarks' cost-of-sealing rows compare what they say: intake's supporters who
share their name reach the wire sealed, those who share nothing reach it with nothing
sealed (and still a data key's id); the counter's sealed events decode as intake writes
them, each with a sealed name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from bench import intake_bench
from bench.counter_load import TYPES, name_sealer, raw_action
from services.intake.adapters.sealing_publisher import SealingPublisher
from services.intake.domain.actions import ANONYMOUS, Context, decide
from services.intake.domain.model import ActionIn
from shared.contracts.action_record import ActionRecord
from shared.contracts.actions import ActionEvent
from shared.contracts.catalog import CaseRecord
from shared.kafka import decode
from tests.unit.intake.builders import NOW, rules
from tests.unit.intake.fakes import FakePublisher
from tests.unit.shared.fake_data_keys import FakeDataKeyStore

pytestmark = pytest.mark.unit
CASE = CaseRecord.model_validate(
    {
        "campaign_id": "w4r",
        "campaign_name": "W4R",
        "milestones": [],
        "case": {
            "id": "sonia-dahmani",
            "name": "Sonia Dahmani",
            "country": "TN",
            "targets": [{"id": "t", "name": "T", "country": "TN", "language": "fr"}],
        },
    }
)


async def written(body: dict[str, Any]) -> ActionRecord:
    """The event intake writes for `body`, through its decision and its sealing."""
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    event = decide(action, ANONYMOUS, {CASE.case.id: CASE}.get, Context(b"s" * 16, NOW, 300))
    assert isinstance(event, ActionRecord), event
    kafka = FakePublisher()
    await SealingPublisher(FakeDataKeyStore(), kafka).publish([event])
    return kafka.events[0]


async def test_intake_bench_supporters_who_share_nothing_have_nothing_sealed() -> None:
    named = await written(intake_bench.action(7))
    unnamed = await written(intake_bench.action(7, shares=False))
    assert named.sealed is not None and unnamed.sealed is None
    assert unnamed.supporter_name is None and unnamed.supporter_email is None
    assert unnamed.supporter_key and unnamed.supporter_key != named.supporter_key


def test_counter_bench_sealed_events_decode_each_with_a_sealed_name() -> None:
    stamp = datetime.now(UTC).isoformat()
    sealer = name_sealer()
    for i in range(len(TYPES)):
        key, value = raw_action(i, "bench-case-0", stamp, sealer)
        event = decode(ActionEvent, value)
        assert event.sealed and event.share_name_with_target and event.supporter_name is None
        assert event.supporter_key is not None and key == event.supporter_key.encode()
        plain = decode(ActionEvent, raw_action(i, "bench-case-0", stamp)[1])
        assert plain.sealed is None
