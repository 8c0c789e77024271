"""The AsyncAPI document and the `plume asyncapi` command (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli import main
from services.intake.entrypoints.asyncapi import document
from shared.contracts.actions import ActionEvent

pytestmark = pytest.mark.unit


def test_every_message_payload_resolves_to_a_schema() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    for message in doc["components"]["messages"].values():
        assert message["payload"]["$ref"].rsplit("/", 1)[-1] in schemas
    for channel in doc["channels"].values():
        for ref in channel["messages"].values():
            assert ref["$ref"].rsplit("/", 1)[-1] in doc["components"]["messages"]


def test_the_action_schema_is_the_models() -> None:
    schema = document()["components"]["schemas"]["ActionEvent"]
    assert set(schema["properties"]) == set(ActionEvent.model_fields)
    assert schema["additionalProperties"] is False


def test_plume_asyncapi_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "asyncapi.json"
    with pytest.raises(SystemExit) as exited:
        main(["asyncapi", "--output", str(target)])
    assert exited.value.code == 0
    assert json.loads(target.read_text()) == json.loads(json.dumps(document()))


def test_every_topic_of_the_contract_has_a_channel() -> None:
    from shared.topics import TOPICS

    addresses = {channel["address"] for channel in document()["channels"].values()}
    assert addresses == {spec.name for spec in TOPICS}
