"""What became of one action, as its sender may ask (`GET /v1/actions/{id}`, contract v2).

- `counted`: the ledger holds the action and counts it (a re-sent action_id is the same
  action: it reads as its first sending does).
- `duplicate`: accepted, but it added nothing: a signature by a supporter who had already
  signed the case, sent under an action_id of its own.
- `invalidated`: counted, then removed by `plume counter invalidate`.
- `unknown`: never seen by the counter (not yet, or never), or sent through another key.
  Another key's action is indistinguishable from one never seen, so the answer reveals
  nothing about actions that are not the caller's."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from services.counter.domain.model import ANONYMOUS


class Status(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    INVALIDATED = "invalidated"
    UNKNOWN = "unknown"


class Seen(NamedTuple):
    """What the counter holds about an action_id: from the ledger (`duplicate` False) or
    from the duplicates it kept."""

    case_id: str
    source: str
    counted_at: datetime | None
    invalidated: bool = False
    duplicate: bool = False


class ActionLookup(NamedTuple):
    action_id: UUID
    case_id: str | None
    status: Status
    counted_at: datetime | None


def look_up(action_id: UUID, seen: Seen | None, key_name: str) -> ActionLookup:
    """The answer for the key named `key_name`: only its own actions are told apart.
    Actions without a key travel as "anonymous": no key's name makes them its own."""
    if seen is None or seen.source != key_name or key_name == ANONYMOUS:
        return ActionLookup(action_id, None, Status.UNKNOWN, None)
    if seen.duplicate:
        return ActionLookup(action_id, seen.case_id, Status.DUPLICATE, None)
    status = Status.INVALIDATED if seen.invalidated else Status.COUNTED
    return ActionLookup(action_id, seen.case_id, status, seen.counted_at)
