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

REF = "#/components/schemas/{model}"


class FieldErrorOut(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] | None = None


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
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(_schemas(ActionIn, BatchIn, Problem))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def asyncapi_json(_: Request) -> JSONResponse:
        return JSONResponse(asyncapi.document())

    app.add_route("/asyncapi.json", asyncapi_json, include_in_schema=False)
