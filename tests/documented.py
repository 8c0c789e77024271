"""Intake's /openapi.json, made by the app itself (no server needed), and whether a body
matches one of its schemas: what unit and end-to-end tests check answers against."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from services.intake.bootstrap import openapi_document
from services.intake.settings import IntakeSettings


@cache
def document() -> dict[str, Any]:
    return openapi_document(IntakeSettings(supporter_key_secret="only-for-the-document"))


def schema_accepts(name: str, instance: dict[str, Any]) -> bool:
    root = {"$ref": f"#/components/schemas/{name}", "components": document()["components"]}
    return bool(jsonschema_rs.Draft202012Validator(root).is_valid(instance))
