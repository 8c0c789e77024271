"""Valid request bodies and validation rules for the intake's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.intake.domain.model import Rules

NOW = datetime(2025, 12, 10, 12, 0, tzinfo=UTC)
KNOWN_CASES = {"sonia-dahmani", "closed-case"}


def rules(now: datetime = NOW) -> Rules:
    return Rules(lambda case_id: case_id in KNOWN_CASES, now, 300)


def signature(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action_id": "2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11",
        "case_id": "sonia-dahmani",
        "type": "signature",
        "supporter": {"name": "Awa Diallo", "email": "awa@example.org", "country": "SN"},
        "consent": {"share_name_with_target": True, "contact": False},
        "occurred_at": "2025-12-10T09:00:00Z",
    }
    body.update(overrides)
    return body
