"""Retention of the supporters' data keys (README, "Supporters' data"): a key unused for
its retention (no action sealed with it) is destroyed unless something still needs it:
its supporter consented to be contacted (their email must stay readable), or delivery still
holds a name or message of theirs, in a dossier pending or kept until its files' retention
ends (an erasure finds those rows by the key's id, which only the key links to the email).
Pure: which keys expire."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class KeyFacts(Protocol):
    """What the key store knows of a key (shared.data_keys.KeyUse)."""

    @property
    def key_id(self) -> str: ...

    @property
    def last_used_at(self) -> datetime: ...

    @property
    def contact_consented_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class KeyRetention:
    kept_for: timedelta

    def unused_since(self, now: datetime) -> datetime:
        """Keys last used before this moment have had their retention."""
        return now - self.kept_for

    def expired(
        self, keys: Sequence[KeyFacts], held_by_delivery: Collection[str], now: datetime
    ) -> list[str]:
        """The ids of those keys to destroy now: retention over and needed by nothing.
        `held_by_delivery`: ids of keys whose supporter's name or message delivery holds."""
        over = self.unused_since(now)
        return [
            key.key_id
            for key in keys
            if key.last_used_at < over
            and key.contact_consented_at is None
            and key.key_id not in held_by_delivery
        ]
