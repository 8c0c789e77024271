"""The counter's Prometheus metrics. Labels are case ids and partitions only."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Freshness has a bucket on the 500 ms objective and on the 200 ms goal.
FRESHNESS = Histogram(
    "plume_counter_freshness_seconds",
    "From intake's acknowledgement of an action to its count being committed",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0),
)
BATCH_SIZE = Histogram(
    "plume_counter_batch_records",
    "Records per committed batch",
    buckets=(1, 10, 50, 100, 500, 1_000, 2_000, 5_000, 10_000),
)
FLUSH_SECONDS = Histogram(
    "plume_counter_flush_seconds",
    "Time to count a batch and commit it with the positions",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
COUNTED = Counter("plume_counter_actions_counted_total", "Actions newly counted (not replays)")
# plume_counter_dead_letters_total: shared.dead_letters.
CONFLICTS = Counter(
    "plume_counter_conflicting_actions_total",
    "Actions refused because an earlier, different action owns their action_id",
)
# Lag gauges (plume_counter_lag_records, _lag_seconds, _assigned_partitions): shared.lag.
CASE_TOTAL = Gauge("plume_counter_case_total", "A case's current total", ["case_id"])
MILESTONES = Counter("plume_counter_milestones_published_total", "Milestone events published")
CASE_TOTAL_BY_COUNTRY = Gauge(
    "plume_counter_case_total_by_country",
    "A case's current total from supporters of one country (ISO codes, ZZ = unknown)",
    ["case_id", "country"],
)
CASE_TOTAL_BY_SOURCE = Gauge(
    "plume_counter_case_total_by_source",
    "A case's current total through one source: an API key's name, or web without a key",
    ["case_id", "source"],
)
HEARTBEAT_COUNTED = Gauge(
    "plume_counter_heartbeat_last_counted_timestamp_seconds",
    "When the last heartbeat action was committed (Unix time): proves the whole chain",
)
ANOMALIES_ACTIVE = Gauge(
    "plume_counter_anomalies_active",
    "Waves flagged and not resolved, per case and kind (network, domain, source); the same "
    "figure from every counter process (read from PostgreSQL)",
    ["case_id", "kind"],
)
