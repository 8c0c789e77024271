"""Dossiers by status, and how long the oldest unfinished one of each status and channel
has waited since it was sealed: the gauges the delivery alerts watch."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Gauge

from services.delivery.domain.status import DossierStatus
from shared.db import Conn

DOSSIERS = Gauge("plume_delivery_dossiers", "Dossiers by status", ["status"])
OLDEST_AGE = Gauge(
    "plume_delivery_oldest_dossier_age_seconds",
    "Seconds since the oldest dossier still in this status (not acknowledged) was sealed",
    ["status", "channel"],
)
UNFINISHED = (DossierStatus.SEALED, DossierStatus.FAILED, DossierStatus.SENT)
CHANNELS = ("manual", "email", "webhook")


@dataclass(frozen=True)
class StatusFigures:
    counts: dict[str, int]
    oldest_age_s: dict[tuple[str, str], float]  # (status, channel) -> seconds; unfinished only


async def read_statuses(conn: Conn, schema: str) -> StatusFigures:
    rows = await conn.fetch(
        "SELECT status, coalesce(target->'delivery'->>'channel', 'manual') AS channel, "
        "count(*) AS n, extract(epoch FROM now() - min(created_at))::float8 AS age "
        f'FROM "{schema}".dossiers GROUP BY 1, 2'
    )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
    return StatusFigures(
        counts=counts,
        oldest_age_s={
            (r["status"], r["channel"]): r["age"]
            for r in rows
            if r["status"] != DossierStatus.ACKNOWLEDGED
        },
    )


def export(figures: StatusFigures) -> None:
    """Every status and channel gets a value (0: none), so that alerts see a series."""
    for status in DossierStatus:
        DOSSIERS.labels(status.value).set(figures.counts.get(status.value, 0))
    for status in UNFINISHED:
        for channel in CHANNELS:
            age = figures.oldest_age_s.get((status.value, channel), 0.0)
            OLDEST_AGE.labels(status.value, channel).set(age)
