"""Which parts of an accepted action delivery keeps, and for whom (pure rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from shared.contracts.actions import ActionType

# Module names: looked up once per action of a million, ActionType.X costs 7x the compare.
SIGNATURE, SOLIDARITY_MESSAGE = ActionType.SIGNATURE, ActionType.SOLIDARITY_MESSAGE


class ActionFacts(Protocol):
    """What delivery reads of an accepted action (ActionEvent has all of it)."""

    @property
    def action_id(self) -> object: ...
    @property
    def case_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def supporter_key(self) -> str | None: ...
    @property
    def supporter_name(self) -> str | None: ...
    @property
    def share_name_with_target(self) -> bool: ...
    @property
    def consent_text_id(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def heartbeat(self) -> bool: ...


# NamedTuples: a million of them are built per million actions, and they are cheap.
class NamedSignature(NamedTuple):
    """A signature whose supporter agreed to share their name with the target."""

    case_id: str
    supporter_key: str
    name: str
    country: str
    signed_at: datetime
    consent_text_id: str | None = None  # proof of what the supporter agreed to


class UnnamedSupporter(NamedTuple):
    """A signature without that consent: only counted, by country, never named."""

    case_id: str
    supporter_key: str
    country: str
    consent_text_id: str | None = None


class SolidarityMessage(NamedTuple):
    action_id: str
    case_id: str
    first_name: str | None
    country: str
    message: str
    written_at: datetime
    supporter_key: str | None = None  # how an erasure finds it


@dataclass
class SortedActions:
    named: list[NamedSignature] = field(default_factory=list)
    unnamed: list[UnnamedSupporter] = field(default_factory=list)
    messages: list[SolidarityMessage] = field(default_factory=list)


def first_name(full_name: str | None) -> str | None:
    """The first word of a name: enough for a person to feel addressed, no more."""
    if not full_name:
        return None
    words = full_name.split()
    return words[0] if words else None


def sort_actions(events: Sequence[ActionFacts]) -> SortedActions:
    """Split a batch into what delivery stores; one signature per supporter and case
    (the first one seen wins, like the database's ON CONFLICT DO NOTHING)."""
    out = SortedActions()
    seen: set[tuple[str, str]] = set()
    for event in events:
        if event.heartbeat:
            continue
        if event.type == SIGNATURE:
            key = event.supporter_key or str(event.action_id)
            if (event.case_id, key) in seen:
                continue
            seen.add((event.case_id, key))
            if event.share_name_with_target and event.supporter_name:
                out.named.append(
                    NamedSignature(
                        event.case_id,
                        key,
                        event.supporter_name,
                        event.country,
                        event.occurred_at,
                        event.consent_text_id,
                    )
                )
            else:
                out.unnamed.append(
                    UnnamedSupporter(event.case_id, key, event.country, event.consent_text_id)
                )
        elif event.type == SOLIDARITY_MESSAGE and event.message:
            name = first_name(event.supporter_name) if event.share_name_with_target else None
            out.messages.append(
                SolidarityMessage(
                    str(event.action_id),
                    event.case_id,
                    name,
                    event.country,
                    event.message,
                    event.occurred_at,
                    event.supporter_key,
                )
            )
    return out
