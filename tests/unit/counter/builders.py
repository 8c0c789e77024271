"""Actions for counter tests. `supporter_key` stands for what intake derives from the
normalised email: two letter-case variants of one email give the same key."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from shared.contracts.actions import ActionEvent, ActionType, Channel

ACCEPTED = datetime(2025, 12, 10, 9, 30, tzinfo=UTC)


def action(
    case_id: str = "case-a",
    type: ActionType = ActionType.LETTER,
    count: int = 1,
    *,
    action_id: UUID | None = None,
    supporter_key: str | None = None,
    country: str | None = None,
    channel: Channel = Channel.WEB,
    source: str = "anonymous",
    accepted_at: datetime = ACCEPTED,
    heartbeat: bool = False,
) -> ActionEvent:
    extra = {"country": country} if country else {}
    return ActionEvent(
        action_id=action_id or uuid4(),
        case_id=case_id,
        type=type,
        count=count,
        channel=channel,
        supporter_key=supporter_key,
        occurred_at=accepted_at,
        accepted_at=accepted_at,
        source=source,
        heartbeat=heartbeat,
        **extra,
    )


def signature(case_id: str, supporter_key: str, **kwargs: object) -> ActionEvent:
    return action(case_id, ActionType.SIGNATURE, supporter_key=supporter_key, **kwargs)  # type: ignore[arg-type]
