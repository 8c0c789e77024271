"""Turn validation failures into the contract's field list:
`[{"field": "supporter.email", "code": "invalid_email", "message": "…"}]`, paths dotted,
list indices as numbers. The `code` is stable (frontends translate it); the `message` is
English and may be reworded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from services.intake.domain.model import SERVER_ONLY_FIELDS


class FieldError(TypedDict):
    field: str
    code: str
    message: str


STRICT_JSON = "JSON as RFC 8259 has it: no NaN or Infinity, no number beyond a double's range"


def is_invalid_json(exc: ValidationError, body: bytes) -> bool:
    """Whether a body that failed validation is not JSON at all. pydantic's parser takes
    NaN, Infinity and 1e400 (as floats that then fail as field values); they are not JSON,
    and the stricter parser that writes our events refuses them, so they are refused as
    such (checked only on this failure path)."""
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        return True
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return False


def field_errors(details: Iterable[ErrorDetails], skip: int = 0) -> list[FieldError]:
    """One entry per failing field; `skip` drops leading path parts (a batch item's index)."""
    errors: list[FieldError] = []
    for error in details:
        loc = error["loc"][skip:]
        path = ".".join(str(part) for part in loc)
        ctx = error.get("ctx") or {}
        if "field" in ctx:
            path = ".".join(part for part in (path, str(ctx["field"])) if part)
        errors.append({"field": path, "code": _code(error, loc), "message": _message(error, loc)})
    return errors


def _code(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    """pydantic's error type (stable across its releases: its documented error codes), or
    plume's own; a field only the server sets has a code of its own."""
    if error["type"] == "extra_forbidden" and len(loc) == 1 and loc[0] in SERVER_ONLY_FIELDS:
        return "server_only"
    return error["type"]


def _message(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        if len(loc) == 1 and loc[0] in SERVER_ONLY_FIELDS:
            return "is set by the server and may not be sent"
        return "is not a known field"
    if kind == "missing":
        return "is required"
    message = error["msg"]
    return message.removeprefix("Value error, ")
