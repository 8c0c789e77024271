"""The ports the intake's use cases and routes are given (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from services.intake.domain.confirmations import HeldSignature, Mail, Pending
from shared.contracts.action_record import ActionRecord

if TYPE_CHECKING:  # for the annotation only: shared.apikeys holds its PostgreSQL queries
    from shared.apikeys import ApiKey


class PublishUnavailable(Exception):
    """Kafka did not acknowledge in time; nothing may be reported as accepted."""

    action_id: object = None  # set for a single action, so the caller can retry with it
    # set for a batch: each item's action_id (None for an item refused by validation)
    action_ids: list[str | None] | None = None


class ActionPublisher(Protocol):
    async def publish(self, events: Sequence[ActionRecord]) -> None:
        """Return only once Kafka acknowledged every event (acks=all); raise
        PublishUnavailable when that cannot happen within the publish timeout. Concurrent
        callers are written together; a failure may still leave some events written, which
        is harmless because action ids make a retry count once."""
        ...

    def available(self) -> bool:
        """False while recent writes failed: callers are answered 503 at once."""
        ...


class RateLimits(Protocol):
    async def take(self, caller: str, limit: int, cost: int) -> int:
        """Spend `cost` of `caller`'s `limit` actions per window (a minute): 0 when allowed,
        else the whole seconds until they would be (at least 1). `limit` 0 is unlimited
        and `cost` is never above `limit` (the caller refuses that first, AboveBurst).
        Never raises for the store's outages: the adapter decides what they mean."""
        ...

    async def close(self) -> None: ...


class KeyStore(Protocol):
    async def find(self, secret: str) -> ApiKey | None:
        """The live key matching `secret`, or None when unknown or revoked (refused within
        a second of its revocation). Raises OSError/asyncpg errors when the store cannot
        be asked."""
        ...


class PendingSignatures(Protocol):
    """Signatures held until their supporter confirms them (campaigns with
    `confirm_signatures`). `hold` keeps one (False when its action_id is already held: a
    retry, nothing more is sent). `unmailed` claims, for two minutes, confirmation
    requests not yet sent (with their link's token, forgotten once `mailed`). `find` reads
    what a link points at (its event None once confirmed, the email then forgotten).
    `expire` erases the rows past their expiry; returns how many were never confirmed."""

    async def hold(self, held: HeldSignature, token: str) -> bool: ...

    async def unmailed(self, limit: int) -> list[Mail]: ...

    async def mailed(self, action_id: UUID) -> None: ...

    async def find(self, token_hash: str) -> Pending | None: ...

    async def confirm(self, token_hash: str) -> None: ...

    async def expire(self, now: datetime) -> int: ...


class ConfirmationMailer(Protocol):
    """Sends one confirmation request; raises OSError when it could not (retried later)."""

    async def send(self, mail: Mail, link: str, case_name: str) -> None: ...
