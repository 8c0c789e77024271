"""The life of a dossier: sealed → sent → acknowledged, or failed (and retried)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class DossierStatus(StrEnum):
    SEALED = "sealed"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"


# A manual dossier goes from sealed straight to acknowledged when the team hands it over;
# a failed one may also be handed over by hand.
ALLOWED: dict[DossierStatus, frozenset[DossierStatus]] = {
    DossierStatus.SEALED: frozenset(
        {DossierStatus.SENT, DossierStatus.FAILED, DossierStatus.ACKNOWLEDGED}
    ),
    DossierStatus.FAILED: frozenset(
        {DossierStatus.SENT, DossierStatus.FAILED, DossierStatus.ACKNOWLEDGED}
    ),
    DossierStatus.SENT: frozenset({DossierStatus.ACKNOWLEDGED}),
    DossierStatus.ACKNOWLEDGED: frozenset(),
}


class TransitionRefused(Exception):
    def __init__(self, current: DossierStatus, wanted: DossierStatus) -> None:
        super().__init__(f"a dossier that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: DossierStatus, wanted: DossierStatus) -> None:
    if wanted not in ALLOWED[current]:
        raise TransitionRefused(current, wanted)


def retry_delay(attempts: int, base: float = 2.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff after `attempts` failed sends, capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class StatusFigures:
    """Dossiers per status, and the age of the oldest unfinished one per status and channel."""

    counts: dict[str, int]
    oldest_age_s: dict[tuple[str, str], float]  # (status, channel) -> seconds; unfinished only
