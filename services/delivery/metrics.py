"""Every Prometheus metric of the delivery service (the consumer's lag gauges and the
supervisor's restarts are shared.lag's and shared.supervisor's)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram

from services.delivery.domain.status import DossierStatus, StatusFigures

PENDING = Gauge("plume_delivery_pending_signatures", "Signatures not yet in a dossier", ["case"])
ATTEMPTS = Counter("plume_delivery_transmissions_total", "Transmission attempts", ["channel"])
FAILURES = Counter(
    "plume_delivery_transmission_failures_total", "Failed transmissions", ["channel"]
)
CONFLICTS = Counter(
    "plume_delivery_conflicting_actions_total",
    "Actions refused because an earlier, different action owns their action_id",
)
RENDER_SECONDS = Histogram(
    "plume_delivery_render_seconds",
    "Time to render one dossier's files",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)
UNREADABLE_NAMES = Counter(
    "plume_delivery_pdf_unreadable_names",
    "Names (or cover texts) in dossier PDFs with a character no installed font has",
)
FILES_DELETED = Counter(
    "plume_delivery_dossier_files_deleted_total",
    "Dossiers whose files were deleted, their retention after acknowledgement over",
)
RETENTION_RUN = Gauge(
    "plume_delivery_retention_last_run_timestamp_seconds",
    "When the retention job last finished (Unix time)",
)
DATA_KEYS_DESTROYED = Counter(
    "plume_delivery_data_keys_destroyed_total",
    "Supporters' data keys destroyed at the end of their retention, needed by nothing",
)
KEY_RETENTION_RUN = Gauge(
    "plume_delivery_key_retention_last_run_timestamp_seconds",
    "When the data keys' retention job last finished (Unix time)",
)
DOSSIERS = Gauge("plume_delivery_dossiers", "Dossiers by status", ["status"])
OLDEST_AGE = Gauge(
    "plume_delivery_oldest_dossier_age_seconds",
    "Seconds since the oldest dossier still in this status (not acknowledged) was sealed",
    ["status", "channel"],
)
UNFINISHED = (DossierStatus.SEALED, DossierStatus.FAILED, DossierStatus.SENT)
CHANNELS = ("manual", "email", "webhook")


def report_pending(counts: Mapping[str, int]) -> None:
    for case_id, count in counts.items():
        PENDING.labels(case_id).set(count)


def export_statuses(figures: StatusFigures) -> None:
    """Every status and channel gets a value (0: none), so that alerts see a series."""
    for status in DossierStatus:
        DOSSIERS.labels(status.value).set(figures.counts.get(status.value, 0))
    for status in UNFINISHED:
        for channel in CHANNELS:
            age = figures.oldest_age_s.get((status.value, channel), 0.0)
            OLDEST_AGE.labels(status.value, channel).set(age)
