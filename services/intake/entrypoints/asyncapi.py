"""The AsyncAPI 3.0 document of plume's Kafka topics, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.contracts.actions import ActionEvent
from shared.contracts.catalog import CaseRecord
from shared.contracts.dlq import DeadLetter
from shared.contracts.dossiers import DossierEvent
from shared.contracts.totals import CaseTotalsMessage, MilestoneReached
from shared.topics import ACTIONS, ACTIONS_DLQ, CASE_TOTALS, CASES, DOSSIERS, MILESTONES

REF = "#/components/schemas/{model}"
# topic, value model, what the record key is, summary
_MESSAGES: tuple[tuple[str, type[BaseModel], str, str], ...] = (
    (ACTIONS, ActionEvent, "supporter key, or action id", "An accepted action"),
    (CASES, CaseRecord, "case id", "The latest state of a case (compacted)"),
    (CASE_TOTALS, CaseTotalsMessage, "case id", "A case's latest totals (compacted)"),
    (MILESTONES, MilestoneReached, "case id", "A campaign milestone reached"),
    (DOSSIERS, DossierEvent, "dossier id", "A dossier life-cycle event"),
    (ACTIONS_DLQ, DeadLetter, "the original record's key", "A record no consumer could process"),
)


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, model, key, summary in _MESSAGES:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        name = model.__name__
        messages[name] = {
            "name": name,
            "summary": summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": key}}},
        }
        channel_id = topic.replace(".", "_").replace("-", "_")
        channels[channel_id] = {
            "address": topic,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "plume Kafka topics", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
