"""The shapes of the intake's answers as /openapi.json states them: the action routes
build their bodies by hand for speed, so these models describe them rather than make them
(tests/integration/intake/test_schemathesis.py holds every real answer to them)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class Accepted(BaseModel):
    action_id: UUID
    status: Literal["accepted", "pending_confirmation"] = Field(
        default="accepted",
        description="pending_confirmation: a signature of a campaign that asks supporters "
        "to confirm, held until they do (it counts from then on)",
    )


class FieldErrorOut(BaseModel):
    field: str = Field(description='dotted path of the failing field, e.g. "supporter.email"')
    code: str = Field(
        description="stable code of the rule broken, for frontends to translate "
        '(e.g. "missing", "invalid_email", "unknown_case", "in_future", "blank")'
    )
    message: str = Field(description="in English; may be reworded between releases")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every error (application/problem+json)."""

    type: Literal["about:blank"]
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="the failing fields, where the refusal is about some"
    )


class ValidationProblem(ProblemDetails):
    """A 422: `errors` lists every failing field."""

    errors: list[FieldErrorOut]  # required here


class UnavailableProblem(ProblemDetails):
    """A 503: the write was not acknowledged, so its outcome is unknown."""

    action_id: UUID | None = Field(
        default=None,
        description="the refused action's id (the server's where the client sent none): "
        "retry with it and it is counted once",
    )
    action_ids: list[UUID | None] | None = Field(
        default=None,
        description="a refused batch: each item's action_id in the batch's order (null for "
        "an item refused by validation, or not an object); retry the batch with them",
    )


class ItemResult(BaseModel):
    index: int
    status: Literal["accepted", "rejected", "pending_confirmation"]
    action_id: UUID | None = Field(default=None, description="when accepted or pending")
    errors: list[FieldErrorOut] | None = Field(default=None, description="when rejected")


class BatchAnswer(BaseModel):
    accepted: int
    rejected: int
    pending_confirmation: int | None = Field(
        default=None, description="signatures held for their supporters' confirmation"
    )
    results: list[ItemResult] = Field(description="one per action, in the batch's order")
