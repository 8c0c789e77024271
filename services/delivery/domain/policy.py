"""When the pending signatures (or messages) of a case are sealed into dossiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CutReason(StrEnum):
    SIZE = "size"
    AGE = "age"
    CLOSED = "closed"
    REQUESTED = "requested"


@dataclass(frozen=True)
class CutPolicy:
    size: int = 10_000
    max_age: timedelta = timedelta(hours=24)

    def reason_to_cut(
        self, pending: int, oldest: datetime | None, now: datetime, case_open: bool
    ) -> CutReason | None:
        """Why this case's pending items should be cut now, or None to wait."""
        if pending <= 0:
            return None
        if not case_open:
            return CutReason.CLOSED
        if pending >= self.size:
            return CutReason.SIZE
        if oldest is not None and now - oldest >= self.max_age:
            return CutReason.AGE
        return None
