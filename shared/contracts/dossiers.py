"""Dossier life-cycle events, the values of `plume.dossiers.v1` (keyed by dossier id).
They carry ids, counts and states only: never a supporter's name."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class DossierKind(StrEnum):
    """What a dossier carries: signatures (to the authorities the case targets) or
    solidarity messages (to the person of the case)."""

    SIGNATURES = "signatures"
    SOLIDARITY = "solidarity"


class DossierEvent(BaseModel):
    """`event_id` increases per change and is stable across a republish after a crash,
    so a consumer that sees it twice can tell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    event_id: int
    dossier_id: UUID
    case_id: str
    target_id: str
    kind: DossierKind
    status: Literal["sealed", "sent", "acknowledged", "failed"]
    count: int
    attempts: int = 0
    error: str | None = None
    occurred_at: datetime
