"""The counter's settings (env prefix PLUME_COUNTER_), built once in the entrypoint."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.counter.domain.waves import Thresholds
from shared.settings import ServiceSettings
from shared.topics import ACTIONS, ACTIONS_DLQ, CASE_TOTALS, MILESTONES, TopicSpec

IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"


class CounterSettings(ServiceSettings):
    """Topic and schema names are settings so that tests can run isolated counters."""

    model_config = SettingsConfigDict(env_prefix="PLUME_COUNTER_", extra="ignore")

    service_name: ClassVar[str] = "counter"
    port: int = 8002
    db_schema: str = Field(default="counter", pattern=IDENTIFIER)
    group_id: str = "plume-counter"
    actions_topic: str = ACTIONS
    totals_topic: str = CASE_TOTALS
    milestones_topic: str = MILESTONES
    dlq_topic: str = ACTIONS_DLQ
    # Records per transaction: larger batches spread its fixed cost (round trips, upserts,
    # commit) thinner; measured, 10,000 counts about 5 % faster than 5,000.
    max_batch: int = Field(default=10_000, ge=1)
    # How often the read snapshot looks for totals committed by any counter process.
    refresh_interval_s: float = Field(default=0.1, gt=0)
    # Server-Sent Events: at most one event per case per interval.
    stream_interval_s: float = Field(default=0.25, gt=0)
    # Streams open at once, in all and per client address; past either, 503 with
    # Retry-After. (One costs ~30 KB and a wake-up per change; a venue or an office behind
    # one address may show the live total on several screens.)
    stream_max_total: int = Field(default=2_000, ge=1)
    stream_max_per_client: int = Field(default=20, ge=1)
    stream_retry_after_s: int = Field(default=10, ge=1)
    db_pool_size: int = Field(default=8, ge=2)
    # Records waiting longer than this for a commit (transient failures retried) turn
    # /readyz false and show in plume_counter_stalled_seconds.
    stall_after_s: float = Field(default=60.0, gt=0)
    # A read snapshot not refreshed for this long (refreshes failing, or not running) turns
    # /readyz false: the totals served would be stale. Healthy, it refreshes every
    # refresh_interval_s.
    snapshot_stale_after_s: float = Field(default=10.0, gt=0)
    # Abuse detection (domain/waves.py, README "Abuse detection"): per case, a network,
    # email domain or source is flagged when its last `anomaly_window_s` hold at least
    # `anomaly_min_actions` actions and `anomaly_factor` times its usual rate (an average
    # with time constant `anomaly_usual_s`). No flag in the first `anomaly_warmup_s` after
    # a start (no usual rate known yet). Judged every `anomaly_check_s`; a flag stays
    # listed `anomaly_keep_s` after it was last above the thresholds.
    anomaly_window_s: float = Field(default=60.0, gt=0)
    anomaly_bucket_s: float = Field(default=5.0, gt=0)
    anomaly_usual_s: float = Field(default=3600.0, gt=0)
    anomaly_factor: float = Field(default=10.0, ge=1)
    anomaly_min_actions: int = Field(default=50, ge=1)
    anomaly_warmup_s: float = Field(default=300.0, ge=0)
    anomaly_check_s: float = Field(default=5.0, gt=0)
    anomaly_keep_s: float = Field(default=3600.0, gt=0)
    anomaly_max_keys: int = Field(default=100_000, ge=100)
    renamed: ClassVar[dict[str, str]] = {"pool_size": "db_pool_size"}

    def wave_thresholds(self) -> Thresholds:
        """The `anomaly_…` settings, named as the detector names them."""
        return Thresholds(
            window_s=self.anomaly_window_s,
            bucket_s=self.anomaly_bucket_s,
            usual_s=self.anomaly_usual_s,
            factor=self.anomaly_factor,
            min_actions=self.anomaly_min_actions,
            warmup_s=self.anomaly_warmup_s,
            max_keys=self.anomaly_max_keys,
        )

    def own_topics(self, actions_partitions: int) -> tuple[TopicSpec, ...]:
        """The topics these settings name, laid out as the contract's, for a counter run in
        isolation (tests, benchmarks) on topics of its own."""
        return (
            TopicSpec(self.actions_topic, actions_partitions),
            TopicSpec(self.totals_topic, 1, compacted=True),
            TopicSpec(self.milestones_topic, 1),
            TopicSpec(self.dlq_topic, 1),
        )
