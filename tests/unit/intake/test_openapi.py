"""/openapi.json tells the truth (issue 9, item 13): what each type of action requires,
the X-API-Key scheme, and every refusal's problem+json body and Retry-After header. The
per-type rules are checked against the model that enforces them, sample by sample."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson
import pytest
from pydantic import ValidationError

from services.intake.domain.actions import Rejection
from services.intake.domain.errors import FieldError
from services.intake.domain.model import ActionIn
from services.intake.entrypoints import guards
from services.intake.entrypoints.state import IntakeState
from services.intake.settings import IntakeSettings
from shared.catalog import CatalogView
from tests.documented import document, schema_accepts
from tests.unit.intake.builders import signature

pytestmark = pytest.mark.unit

PROBLEM = "application/problem+json"


def model_accepts(body: dict[str, Any]) -> bool:
    try:
        ActionIn.model_validate(body, strict=False)
    except ValidationError:
        return False
    return True


BODIES = {
    "signature": signature(),
    "signature without supporter": signature(supporter=None),
    "signature, supporter missing": {k: v for k, v in signature().items() if k != "supporter"},
    "letter without supporter": signature(type="letter", supporter=None),
    "solidarity message": signature(type="solidarity_message", message="Stay strong"),
    "solidarity message without message": signature(type="solidarity_message"),
    "solidarity message, message null": signature(type="solidarity_message", message=None),
    "tally": signature(type="letter", count=300),
    "count above the most": signature(type="letter", count=100_001),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_schema_requires_exactly_what_the_model_requires(body: dict[str, Any]) -> None:
    assert schema_accepts("ActionIn", body) == model_accepts(body)


def test_the_per_type_fields_are_described() -> None:
    properties = document()["components"]["schemas"]["ActionIn"]["properties"]
    assert "signature" in properties["supporter"]["description"]
    assert "solidarity_message" in properties["message"]["description"]
    assert "actions:tally" in properties["count"]["description"]


def test_the_api_key_is_an_api_key_scheme_in_the_x_api_key_header() -> None:
    assert document()["components"]["securitySchemes"] == {
        "ApiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": document()["components"]["securitySchemes"]["ApiKey"]["description"],
        }
    }
    paths = document()["paths"]
    assert paths["/v1/actions"]["post"]["security"] == [{}, {"ApiKey": []}]  # key optional
    assert paths["/v1/actions/batch"]["post"]["security"] == [{"ApiKey": []}]


@pytest.mark.parametrize("path", ["/v1/actions", "/v1/actions/batch"])
def test_every_refusal_is_a_documented_problem(path: str) -> None:
    responses = document()["paths"][path]["post"]["responses"]
    for status in ("400", "401", "403", "413", "415", "422", "429", "503"):
        assert list(responses[status]["content"]) == [PROBLEM], status
    for status in ("429", "503"):
        assert responses[status]["headers"]["Retry-After"]["required"] is True
    schemas = document()["components"]["schemas"]
    assert _schema_of(responses["422"]) == "ValidationProblem"
    assert "errors" in schemas["ValidationProblem"]["required"]


def test_a_single_actions_503_carries_its_action_id_and_a_batch_answers_per_item() -> None:
    paths, schemas = document()["paths"], document()["components"]["schemas"]
    unavailable = _schema_of(paths["/v1/actions"]["post"]["responses"]["503"])
    assert "action_id" in schemas[unavailable]["properties"]
    batch_ok = _schema_of(
        paths["/v1/actions/batch"]["post"]["responses"]["200"], "application/json"
    )
    assert {"accepted", "rejected", "results"} <= set(schemas[batch_ok]["required"])


def test_problem_bodies_as_the_service_makes_them_match_their_schemas() -> None:
    intake = IntakeState(IntakeSettings(supporter_key_secret="s" * 16), CatalogView("cases"))
    field: FieldError = {
        "field": "supporter",
        "code": "required_for_type",
        "message": "is required for a signature",
    }
    made = {
        "ValidationProblem": [guards.refusal_of(Rejection(422, "Invalid", (field,))).response()],
        "UnavailableProblem": [
            guards.unavailable(intake, uuid4()).response(),
            guards.unavailable(intake, None, "the service is starting").response(),
        ],
        "Problem": [guards.refusal_of(Rejection(403, "Tallies need…", (field,))).response()],
    }
    for name, responses in made.items():
        for response in responses:
            assert schema_accepts(name, orjson.loads(bytes(response.body))), response.body
    assert not schema_accepts("ValidationProblem", {"title": "Invalid", "status": 422})
    assert all(r.headers["retry-after"] for r in made["UnavailableProblem"])


def test_the_erasure_routes_are_documented_with_their_key_scope_and_problems() -> None:
    paths, schemas = document()["paths"], document()["components"]["schemas"]
    post, get = paths["/v1/erasures"]["post"], paths["/v1/erasures/{receipt_id}"]["get"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body == "#/components/schemas/ErasureIn"
    assert schemas["ErasureIn"]["required"] == ["email"]
    assert _schema_of(post["responses"]["202"], "application/json") == "ErasureAccepted"
    assert _schema_of(get["responses"]["200"], "application/json") == "ErasureReceipt"
    assert post["security"] == get["security"] == [{"ApiKey": []}]  # a key is required
    assert "supporters:erase" in post["responses"]["403"]["description"]
    refusals = {"post": (post, "400 401 403 413 415 422 429 503"), "get": (get, "401 403 404")}
    for method, (operation, statuses) in refusals.items():
        for status in statuses.split():
            assert list(operation["responses"][status]["content"]) == [PROBLEM], (method, status)
    assert [p["name"] for p in get["parameters"]] == ["receipt_id"]


def test_a_receipt_as_kept_matches_its_schema() -> None:
    done = {
        "receipt_id": str(uuid4()),
        "requested_at": "2026-12-10T09:00:00.123456+00:00",
        "requested_by": "key:section-fr",
        "pending": ["intake"],
        "completed_at": None,
        "done": {"data_key_destroyed": True, "delivery": {"dossiers_transmitted": []}},
    }
    assert schema_accepts("ErasureReceipt", done)
    assert schema_accepts("ErasureAccepted", {"receipt_id": done["receipt_id"]})
    assert not schema_accepts("ErasureReceipt", {k: v for k, v in done.items() if k != "done"})


def _schema_of(response: dict[str, Any], media_type: str = PROBLEM) -> str:
    ref: str = response["content"][media_type]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]
