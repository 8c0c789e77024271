"""/openapi.json with the request models the routes read from raw bytes, and
/asyncapi.json describing the Kafka messages, both generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.intake.domain.model import ActionIn, BatchIn, ErasureIn
from services.intake.entrypoints import asyncapi
from services.intake.entrypoints.answers import (
    ProblemDetails,
    UnavailableProblem,
    ValidationProblem,
)

REF = "#/components/schemas/{model}"
API_KEY = {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key",
    "description": "A partner's key (`plume keys create`); optional on POST /v1/actions",
}


def _schemas(models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """The models' JSON Schemas under the given names (and the models they refer to)."""
    found: dict[str, Any] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        found[name] = {**schema, "title": name}
    return found


# As /openapi.json names them (ProblemDetails is "Problem" there, as RFC 9457 calls it).
DOCUMENTED: dict[str, type[BaseModel]] = {
    "ActionIn": ActionIn,
    "BatchIn": BatchIn,
    "ErasureIn": ErasureIn,
    "Problem": ProblemDetails,
    "ValidationProblem": ValidationProblem,
    "UnavailableProblem": UnavailableProblem,
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(_schemas(DOCUMENTED))
            components["securitySchemes"] = {"ApiKey": API_KEY}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def asyncapi_json(_: Request) -> JSONResponse:
        return JSONResponse(asyncapi.document())

    app.add_route("/asyncapi.json", asyncapi_json, include_in_schema=False)
