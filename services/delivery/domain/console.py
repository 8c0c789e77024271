"""The delivery console's rules: sessions (a random token in the cookie, only its hash
kept), CSRF tokens compared in constant time, and page sizes. Pure: no I/O."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

READ_SCOPE = "dossiers:read"
WRITE_SCOPE = "dossiers:write"
DEFAULT_PAGE = 50
MAX_PAGE = 1000


@dataclass(frozen=True)
class ConsoleSession:
    key_name: str
    scopes: frozenset[str]
    csrf_token: str
    expires_at: datetime

    def live_at(self, now: datetime) -> bool:
        return now < self.expires_at

    @property
    def can_acknowledge(self) -> bool:
        return WRITE_SCOPE in self.scopes


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the cookie only; never stored
    session: ConsoleSession

    @property
    def token_hash(self) -> bytes:
        return token_hash(self.token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def open_session(
    key_name: str, scopes: frozenset[str], now: datetime, ttl: timedelta
) -> NewSession | None:
    """A session for a key that may read dossiers; None for any other key."""
    if READ_SCOPE not in scopes:
        return None
    return NewSession(new_token(), ConsoleSession(key_name, scopes, new_token(), now + ttl))


def csrf_valid(expected: str | None, given: str | None) -> bool:
    """The form's token is the session's (constant-time); a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def page_size(requested: int | None) -> int:
    if requested is None:
        return DEFAULT_PAGE
    return max(1, min(requested, MAX_PAGE))
