"""Confirmed signatures: on a campaign that asks for them, a signature is held until its
supporter confirms it from the link emailed to them; only then is it published (and so
counted and put in a dossier). The link carries a random token; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.contracts.action_record import ActionRecord
from shared.contracts.actions import ActionType
from shared.contracts.catalog import CaseRecord


def needs_confirmation(event: ActionRecord, case: CaseRecord | None) -> bool:
    """A supporter's own signature (a tally of signatures has nobody to ask)."""
    signed = event.type is ActionType.SIGNATURE and event.count == 1
    return signed and case is not None and case.confirm_signatures


def new_token() -> str:
    """The secret of one confirmation link (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class HeldSignature:
    """A signature waiting for its supporter: the event to publish once confirmed, and
    where (and in which language) to ask for the confirmation."""

    event: ActionRecord
    email: str
    language: str
    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class Mail:
    """A confirmation request to send: the link's token exists only here, in memory."""

    action_id: UUID
    case_id: str
    email: str
    language: str
    token: str


@dataclass(frozen=True)
class Pending:
    """What a confirmation link points at: the held event (None once confirmed)."""

    case_id: str
    event: ActionRecord | None
