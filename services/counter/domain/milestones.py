"""When a case's total reaches a campaign milestone."""

from __future__ import annotations

from collections.abc import Iterable


def reached(total: int, milestones: Iterable[int]) -> list[int]:
    """Every milestone the total has reached, lowest first. The store keeps which were
    announced, so asking with all of them (not just those crossed by the last batch) also
    catches a milestone added to the campaign after the case passed it."""
    return sorted(m for m in set(milestones) if 0 < m <= total)


def no_longer_reached(total: int, announced: Iterable[int]) -> list[int]:
    """Milestones announced before a correction that the corrected total is below."""
    return sorted(m for m in announced if m > total)
