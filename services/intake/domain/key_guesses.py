"""Throttling API-key guessing per client address. Every key the store does not know costs
the sending address one attempt from a bucket of `per_minute`; an address with none left
is answered 429 before the store is asked again, so guessing costs no database query.

An attempt is taken before the look-up, not after it fails: concurrent guesses would all
pass a check made before their look-ups came back. A key that turns out live gives its
attempt back and is remembered (by its hash), so a partner's requests, however many at
once, never spend attempts after its key's first success; the store is still asked every
time, so a revoked key is refused at once and forgotten."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.intake.domain.rate_limit import RateLimiter


@dataclass(frozen=True)
class Attempt:
    wait: int  # 0: ask the store; else the seconds before this address may try again
    charged: bool  # whether it took one of the address's attempts


@dataclass
class KeyGuessGuard:
    per_minute: int  # unknown keys per minute per address; 0 = no throttling
    max_known: int = 10_000
    _limiter: RateLimiter = field(init=False, default_factory=RateLimiter)
    # The hashes of keys found live, oldest first (a dict keeps insertion order).
    _known: dict[bytes, None] = field(init=False, default_factory=dict)

    def admit(self, address: str, key_hash: bytes, now: float) -> Attempt:
        """Whether a request from `address` carrying the key of hash `key_hash` may have
        its key looked up."""
        if self.per_minute <= 0 or key_hash in self._known:
            return Attempt(0, charged=False)
        wait = self._limiter.take(_who(address), self.per_minute, 1, now)
        return Attempt(wait, charged=not wait)

    def found(self, address: str, key_hash: bytes, attempt: Attempt, now: float) -> None:
        """The key is live: its attempt is given back and the key remembered."""
        self.not_asked(address, attempt, now)
        if key_hash not in self._known:
            if len(self._known) >= self.max_known:
                for old in list(self._known)[: self.max_known // 2]:
                    del self._known[old]
            self._known[key_hash] = None

    def not_asked(self, address: str, attempt: Attempt, now: float) -> None:
        """The store could not answer: the attempt proved nothing, so it is given back."""
        if attempt.charged:
            self._limiter.give_back(_who(address), self.per_minute, 1, now)

    def unknown(self, key_hash: bytes) -> None:
        """The key is unknown or revoked: its attempt stays spent, and a revoked key
        pays like any guess from now on."""
        self._known.pop(key_hash, None)


def _who(address: str) -> str:
    return "addr:" + address
