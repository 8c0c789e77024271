"""Messages the counter publishes: a case's latest totals (`plume.case-totals.v1`,
compacted, keyed by case id) and milestone announcements (`plume.milestones.v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class CaseTotals(BaseModel):
    """A case's latest totals: the one shape the counter reads from PostgreSQL, keeps in
    its snapshot, publishes on the compacted totals topic (this model is the message) and
    renders in its read API (without `schema_version` and `revision`). `revision` grows
    with every change: a reader that sees two messages of a case keeps the higher one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    case_id: str
    total: int
    by_type: dict[str, int]
    by_country: dict[str, int]
    by_channel: dict[str, int]
    # the name of the API key each action came through, "web" without one (contract v2);
    # a message written before it existed reads as {}
    by_source: dict[str, int] = Field(default_factory=dict)
    updated_at: datetime | None
    revision: int = Field(ge=0)

    @classmethod
    def zero(cls, case_id: str) -> CaseTotals:
        """A case nothing was counted for yet."""
        return cls(
            case_id=case_id,
            total=0,
            by_type={},
            by_country={},
            by_channel={},
            by_source={},
            updated_at=None,
            revision=0,
        )


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
