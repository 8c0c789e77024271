"""Messages the counter publishes: a case's latest totals (`plume.case-totals.v1`,
compacted, keyed by case id) and milestone announcements (`plume.milestones.v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class CaseTotalsMessage(BaseModel):
    """Latest totals of a case. `revision` grows with every change: a reader that sees two
    messages of a case keeps the one with the higher revision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    case_id: str
    total: int
    by_type: dict[str, int]
    by_country: dict[str, int]
    by_channel: dict[str, int]
    updated_at: datetime | None
    revision: int = Field(ge=0)


class MilestoneReached(BaseModel):
    """A case's total reached a campaign milestone; announced once per reaching
    (`event_id` identifies it; a correction below it and a new reaching gives a new one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    event_id: UUID
    campaign_id: str
    case_id: str
    milestone: int
    total: int = Field(description="the case's total in the batch that reached it")
    reached_at: datetime
