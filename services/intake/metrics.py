"""The intake's own Prometheus metrics (request RED metrics come from shared.request_metrics).
Labels are closed sets (types, channels, reasons); never a name, email, key or case text."""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from shared.contracts.actions import ActionType, Channel

ACCEPTED = Counter(
    "plume_intake_actions_accepted_total", "Actions acknowledged by Kafka", ["type", "channel"]
)
DISPOSABLE_EMAILS = Counter(
    "plume_intake_disposable_emails_total",
    "Accepted actions whose email domain is on the disposable-email-domains list",
    ["channel"],
)
REJECTED = Counter(
    "plume_intake_actions_rejected_total",
    "Refusals by reason: a refused request counts once, each refused item of a batch once",
    ["reason"],
)
HELD = Counter(
    "plume_intake_signatures_held_total",
    "Signatures held until their supporter confirms them (campaigns with confirm_signatures)",
)
CONFIRMED = Counter(
    "plume_intake_signatures_confirmed_total", "Held signatures confirmed and published"
)
CONFIRMATIONS_MAILED = Counter(
    "plume_intake_confirmation_requests_sent_total", "Confirmation requests emailed"
)
CONFIRMATION_MAIL_FAILURES = Counter(
    "plume_intake_confirmation_request_failures_total",
    "Confirmation requests SMTP did not take (retried)",
)
UNCONFIRMED_ERASED = Counter(
    "plume_intake_signatures_expired_total",
    "Held signatures never confirmed, erased at their expiry",
)
REASONS = {
    400: "invalid_json",
    401: "unauthorized",
    403: "forbidden",
    409: "case_closed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def rejected(status: int) -> None:
    _rejected(REASONS.get(status, "other")).inc()


@cache
def _rejected(reason: str) -> Counter:
    return REJECTED.labels(reason)


UNNAMED_REFUSALS = Counter(
    "plume_intake_unnamed_refusals_total",
    "503s that could not name their actions' ids: too many refused bodies being read at once",
)
KEY_GUESSES_REFUSED = Counter(
    "plume_intake_key_guesses_refused_total",
    "Keyed requests answered 429 because their address sent too many unknown API keys",
)


RATE_LIMIT_DECISIONS = Counter(
    "plume_intake_rate_limit_decisions_total",
    "Rate-limit checks by whom they limit (key or address) and their outcome",
    ["subject", "outcome"],
)


@cache
def rate_limit_decision(subject: str, outcome: str) -> Counter:
    """The labelled counter, looked up once per label pair (the lookup takes a lock)."""
    return RATE_LIMIT_DECISIONS.labels(subject, outcome)


RATE_LIMIT_STORE_ERRORS = Counter(
    "plume_intake_rate_limit_store_errors_total",
    "Rate-limit checks Redis did not answer (the request was limited by this process alone)",
    ["error"],
)


def shed() -> None:
    """A request refused at once because too many were in flight (shared.admission)."""
    _rejected("overloaded").inc()


PRODUCE_LATENCY = Histogram(
    "plume_intake_kafka_produce_seconds",
    "From handing a request's events to the producer until Kafka acknowledged them",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PRODUCE_FAILURES = Counter(
    "plume_intake_kafka_produce_failures_total", "Writes Kafka did not acknowledge", ["reason"]
)


@cache
def accepted(kind: ActionType, channel: Channel) -> Counter:
    """The labelled counter, looked up once per label pair (the lookup takes a lock)."""
    return ACCEPTED.labels(kind.value, channel.value)


BATCH_BYTES_HELD = Gauge(
    "plume_intake_batch_bytes_held", "Bytes of batch bodies being read, decoded or written"
)
BATCHES_WAITING = Gauge(
    "plume_intake_batches_waiting", "Batches waiting for room before their body is read"
)


def batch_budget_changed(held: int, waiting: int) -> None:
    BATCH_BYTES_HELD.set(held)
    BATCHES_WAITING.set(waiting)
