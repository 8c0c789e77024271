from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.contracts.catalog import CampaignFile, case_records
from shared.logs import RepeatLimiter

pytestmark = pytest.mark.unit

DEFAULT_CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy/campaigns/w4r-2025.json"


def campaign_dict() -> dict[str, object]:
    data: dict[str, object] = json.loads(DEFAULT_CAMPAIGN.read_text())
    return data


def test_default_campaign_has_the_eight_cases_of_2025() -> None:
    campaign = CampaignFile.model_validate(campaign_dict())
    assert len(campaign.cases) == 8
    assert "sonia-dahmani" in {c.id for c in campaign.cases}
    assert all(case.targets for case in campaign.cases)


def test_case_records_carry_sorted_milestones() -> None:
    data = campaign_dict()
    data["milestones"] = [100, 10, 100]
    records = case_records(CampaignFile.model_validate(data))
    assert {tuple(r.milestones) for r in records} == {(10, 100)}
    assert {r.campaign_id for r in records} == {"w4r-2025"}


def test_repeated_case_id_is_refused() -> None:
    data = campaign_dict()
    cases = list(data["cases"])  # type: ignore[call-overload]
    data["cases"] = [*cases, cases[0]]
    with pytest.raises(ValidationError, match="case id repeated"):
        CampaignFile.model_validate(data)


@pytest.mark.parametrize(
    ("delivery", "ok"),
    [
        ({"channel": "manual"}, True),
        ({"channel": "email", "address": "desk@example.org"}, True),
        ({"channel": "email"}, False),
        ({"channel": "webhook", "url": "https://example.org/hook"}, True),
        ({"channel": "fax"}, False),
    ],
)
def test_target_delivery_channels(delivery: dict[str, str], ok: bool) -> None:
    data = campaign_dict()
    case = dict(data["cases"][0])  # type: ignore[index]
    case["targets"] = [{**case["targets"][0], "delivery": delivery}]
    data["cases"] = [case]
    if ok:
        CampaignFile.model_validate(data)
    else:
        with pytest.raises(ValidationError):
            CampaignFile.model_validate(data)


def test_unknown_field_in_campaign_is_refused() -> None:
    data = campaign_dict()
    data["colour"] = "red"
    with pytest.raises(ValidationError):
        CampaignFile.model_validate(data)


def make_event(**overrides: object) -> ActionEvent:
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "action_id": uuid4(),
        "case_id": "sonia-dahmani",
        "type": ActionType.SIGNATURE,
        "count": 1,
        "channel": Channel.WEB,
        "occurred_at": now,
        "accepted_at": now,
        "source": "anonymous",
    }
    fields.update(overrides)
    return ActionEvent.model_validate(fields)


def test_event_key_prefers_the_supporter_key() -> None:
    assert make_event(supporter_key="abc").kafka_key() == b"abc"
    event = make_event()
    assert event.kafka_key() == str(event.action_id).encode()


def test_event_round_trips_through_json_and_defaults_country() -> None:
    event = make_event(supporter_key="k")
    again = ActionEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.country == "ZZ"


def test_event_refuses_unknown_fields_and_bad_counts() -> None:
    with pytest.raises(ValidationError):
        make_event(password="x")
    with pytest.raises(ValidationError):
        make_event(count=0)


def test_repeated_log_lines_are_held_back_and_counted() -> None:
    limiter = RepeatLimiter(interval=10)

    def record(msg: str, at: float) -> logging.LogRecord:
        made = logging.makeLogRecord({"name": "aiokafka", "msg": msg, "levelno": 40})
        made.created = at
        return made

    assert limiter.filter(record("Unable connect", 100.0))
    assert not any(limiter.filter(record("Unable connect", 100.0 + i / 10)) for i in range(50))
    assert limiter.filter(record("another message", 101.0))
    ours = logging.makeLogRecord({"name": "services.counter", "msg": "heartbeat counted"})
    assert all(limiter.filter(ours) for _ in range(5))
    last = record("Unable connect", 111.0)
    assert limiter.filter(last)
    assert vars(last)["repeated"] == 50
