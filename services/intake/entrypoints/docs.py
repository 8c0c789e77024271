"""How the routes are described in /openapi.json (bodies are parsed from raw bytes for
speed and exact errors, so their schemas are declared here rather than inferred)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.intake.entrypoints.answers import Accepted, BatchAnswer
from shared.contracts.catalog import Case


class CaseText(BaseModel):
    language: str
    name: str
    summary: str


class ConsentText(BaseModel):
    text_id: str = Field(description="what an action sends as `consent.text_id`")
    language: str
    text: str


class CaseOut(Case):
    campaign_id: str
    text: CaseText  # name and summary in the answer's language (or the case's best)
    consent: ConsentText | None = Field(
        description="the campaign's current consent text in the answer's language (or its "
        "best); null when the campaign file gives none"
    )


class CasesOut(BaseModel):
    language: str  # chosen from ?lang= or Accept-Language; also in Content-Language
    cases: list[CaseOut]


def _body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _problem(description: str, schema: str = "Problem", retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }
    if retry:
        response["headers"] = _RETRY_AFTER
    return response


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("Body is not valid JSON"),
    413: _problem("Body too large"),
    415: _problem("Not application/json"),
    422: _problem("Validation failed; `errors` lists every failing field", "ValidationProblem"),
    429: _problem(
        "Over the rate limit of the key (or of the client address without one), or too many "
        "unknown API keys from the client address; Retry-After says when",
        retry=True,
    ),
}
# The single route takes requests without a key (web frontends); the batch needs one.
_OPTIONAL_KEY: dict[str, Any] = {"security": [{}, {"ApiKey": []}]}
_REQUIRED_KEY: dict[str, Any] = {"security": [{"ApiKey": []}]}

SINGLE: dict[str, Any] = {
    "summary": "Submit one action",
    "status_code": 202,
    "response_model": Accepted,
    "responses": {
        **_ERRORS,
        401: _problem("Unknown or revoked API key"),
        403: _problem(
            "The key lacks actions:write, or a count above 1 without actions:tally "
            "(then `errors` names the field)"
        ),
        409: _problem("The case is closed"),
        503: _problem(
            "Not acknowledged: Kafka cannot take the write now, or the service is starting, "
            "overloaded or busy; retry with the `action_id` it names",
            "UnavailableProblem",
            retry=True,
        ),
    },
    "openapi_extra": {**_body("ActionIn"), **_OPTIONAL_KEY},
}
BATCH: dict[str, Any] = {
    "summary": "Submit up to 1,000 actions (key with actions:batch)",
    "description": "Each action costs one from the key's rate-limit bucket. A batch of more "
    "actions than the key's per-minute limit is refused whole (422): split it.",
    "response_model": BatchAnswer,
    "responses": {
        **_ERRORS,
        401: _problem("No API key, or an unknown or revoked one"),
        403: _problem("The key lacks actions:batch"),
        503: _problem(
            "Not acknowledged: Kafka cannot take the writes now, or the service is starting, "
            "overloaded or busy; nothing in the batch counts as accepted: retry it with the "
            "`action_ids` it names",
            "UnavailableProblem",
            retry=True,
        ),
    },
    "openapi_extra": {**_body("BatchIn"), **_REQUIRED_KEY},
}
CASES: dict[str, Any] = {
    "summary": "The open and closed cases with their targets",
    "description": "Texts in the language of `?lang=` or `Accept-Language` (see `language`).",
    "response_model": CasesOut,
}


class ErasureAccepted(BaseModel):
    receipt_id: UUID = Field(description="GET /v1/erasures/{receipt_id} follows it")


class ErasureReceipt(BaseModel):
    """What an erasure did (never the email)."""

    receipt_id: UUID
    requested_at: datetime
    requested_by: str = Field(description="`key:<name>` or the operator's command")
    pending: list[str] = Field(description="the services still scrubbing their rows")
    completed_at: datetime | None = Field(description="null while some service is pending")
    done: dict[str, Any] = Field(
        description="`data_key_destroyed`, and each service's report once it is done "
        "(dossiers re-rendered, dossiers already transmitted: when and to whom)"
    )


_ERASER_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: _problem("No API key, or an unknown or revoked one"),
    403: _problem("The key lacks supporters:erase"),
    429: _problem("Too many unknown API keys from the client address", retry=True),
    503: _problem("The service is starting, or PostgreSQL cannot answer now", retry=True),
}
ERASURE: dict[str, Any] = {
    "summary": "Erase a supporter's personal data (key with supporters:erase)",
    "description": "Destroys the supporter's data key at once (every sealed copy, in Kafka "
    "too, is unreadable from then on) and keeps a receipt; the services then scrub their "
    "rows and dossiers not yet transmitted. Totals do not move.",
    "status_code": 202,
    "response_model": ErasureAccepted,
    "responses": {**_ERRORS, **_ERASER_REFUSALS},
    "openapi_extra": {**_body("ErasureIn"), **_REQUIRED_KEY},
}
RECEIPT: dict[str, Any] = {
    "summary": "An erasure's receipt: what was done, what is pending (key with supporters:erase)",
    "response_model": ErasureReceipt,
    "responses": {**_ERASER_REFUSALS, 404: _problem("No such receipt")},
    "openapi_extra": {
        "parameters": [
            {
                "name": "receipt_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
        ],
        **_REQUIRED_KEY,
    },
}
