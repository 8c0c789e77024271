"""/openapi.json with the request models the routes read from raw bytes, and
/asyncapi.json describing the Kafka messages, both generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.intake.domain.model import ActionIn, BatchIn
from services.intake.entrypoints import asyncapi
from services.intake.entrypoints.answers import Problem, UnavailableProblem, ValidationProblem

REF = "#/components/schemas/{model}"
API_KEY = {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key",
    "description": "A partner's key (`plume keys create`); optional on POST /v1/actions",
}


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


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
            components.setdefault("schemas", {}).update(
                _schemas(ActionIn, BatchIn, Problem, ValidationProblem, UnavailableProblem)
            )
            components["securitySchemes"] = {"ApiKey": API_KEY}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def asyncapi_json(_: Request) -> JSONResponse:
        return JSONResponse(asyncapi.document())

    app.add_route("/asyncapi.json", asyncapi_json, include_in_schema=False)
