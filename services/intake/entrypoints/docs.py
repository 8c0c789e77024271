"""How the routes are described in /openapi.json (bodies are parsed from raw bytes for
speed and exact errors, so their schemas are declared here rather than inferred), and the
cached answer of GET /v1/cases."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

from shared.catalog import CatalogView
from shared.contracts.catalog import Case


class Accepted(BaseModel):
    action_id: str
    status: str = "accepted"


class CaseOut(Case):
    campaign_id: str


class CasesOut(BaseModel):
    cases: list[CaseOut]


def _body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


_PROBLEM = {
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not valid JSON", **_PROBLEM},
    401: {"description": "Unknown or revoked API key", **_PROBLEM},
    403: {"description": "The key lacks a scope", **_PROBLEM},
    413: {"description": "Body too large", **_PROBLEM},
    415: {"description": "Not application/json", **_PROBLEM},
    422: {"description": "Validation failed; every failing field listed", **_PROBLEM},
    429: {"description": "Rate limit; Retry-After says when", **_PROBLEM},
    503: {"description": "Kafka cannot take the write; nothing accepted", **_PROBLEM},
}

SINGLE: dict[str, Any] = {
    "summary": "Submit one action",
    "status_code": 202,
    "response_model": Accepted,
    "responses": {**_ERRORS, 409: {"description": "The case is closed", **_PROBLEM}},
    "openapi_extra": _body("ActionIn"),
}
BATCH: dict[str, Any] = {
    "summary": "Submit up to 1,000 actions (key with actions:batch)",
    "responses": _ERRORS,
    "openapi_extra": _body("BatchIn"),
}
CASES: dict[str, Any] = {
    "summary": "The open and closed cases with their targets",
    "response_model": CasesOut,
}


class CasesAnswer:
    """The body of GET /v1/cases, rebuilt only when the catalogue has changed."""

    def __init__(self, catalog: CatalogView) -> None:
        self.catalog = catalog
        self._version = -1
        self._body = b""

    def body(self) -> bytes:
        if self._version != self.catalog.version:
            records = sorted(self.catalog.cases.values(), key=lambda r: r.case.id)
            cases = [
                {**record.case.model_dump(mode="json"), "campaign_id": record.campaign_id}
                for record in records
            ]
            self._version, self._body = self.catalog.version, orjson.dumps({"cases": cases})
        return self._body
