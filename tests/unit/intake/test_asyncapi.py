"""The AsyncAPI document and the `plume asyncapi` command (no network)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# What the contract's topic table (and the models behind it) says each record holds, written
# out here rather than read from the module under test.
CONTRACT_MESSAGES = {
    "plume.actions.v1": ("ActionEvent", "supporter key, or action id"),
    "plume.cases.v1": ("CaseRecord", "case id"),
    "plume.case-totals.v1": ("CaseTotals", "case id"),
    "plume.milestones.v1": ("MilestoneReached", "case id"),
    "plume.dossiers.v1": ("DossierEvent", "dossier id"),
    "plume.actions.dlq.v1": ("DeadLetter", "the original record's key"),
}


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_contract_topic_has_its_message_schema_and_key() -> None:
    doc = document()
    found = {}
    for channel in doc["channels"].values():
        (ref,) = channel["messages"].values()
        message = _resolve(doc, ref["$ref"])
        schema = _resolve(doc, message["payload"]["$ref"])
        key = message["bindings"]["kafka"]["key"]["description"]
        found[channel["address"]] = (schema["title"], key)
        assert message["contentType"] == "application/json"
    assert found == CONTRACT_MESSAGES


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_reference_in_the_document_resolves() -> None:
    doc = document()
    refs = set(_refs(doc))
    assert len(refs) > len(CONTRACT_MESSAGES) * 3  # channels, operations, payloads at least
    for ref in refs:
        assert _resolve(doc, ref), ref


def test_every_send_operation_points_at_a_channel() -> None:
    doc = document()
    operations = doc["operations"].values()
    channels = {_resolve(doc, op["channel"]["$ref"])["address"] for op in operations}
    assert channels == set(CONTRACT_MESSAGES)
    assert {op["action"] for op in operations} == {"send"}


def test_building_the_document_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened while building the AsyncAPI document")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    document.cache_clear()  # build it here, not reuse an earlier test's
    assert document()["servers"]["development"]["protocol"] == "kafka"


def test_the_partners_fields_are_in_the_published_schemas() -> None:
    """Contract v2: `by_source` on the totals topic, `tracking` and `language` on actions;
    generated from the models, so a field added there is published here."""
    schemas = document()["components"]["schemas"]
    assert "by_source" in schemas["CaseTotals"]["properties"]
    assert {"tracking", "language"} <= set(schemas["ActionEvent"]["properties"])
    tracking = schemas["Tracking"]["properties"]
    assert set(tracking) == {"utm_source", "utm_medium", "utm_campaign", "referrer"}
    assert all(200 in [part.get("maxLength") for part in t["anyOf"]] for t in tracking.values())
