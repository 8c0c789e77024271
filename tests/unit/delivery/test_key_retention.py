"""The rule of the supporters' data keys' retention (domain/key_retention.py): a key unused
for its retention goes, unless its supporter consented to contact or delivery still holds
a name or message of theirs; and the daily job walks every key due in bounded batches,
counting what it destroyed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.delivery.domain.key_retention import KeyFacts, KeyRetention
from services.delivery.domain.ports import KeyExpiryBatch
from services.delivery.service import expire_data_keys

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 20, 3, tzinfo=UTC)
RETENTION = KeyRetention(timedelta(days=30))
DESTROYED = "plume_delivery_data_keys_destroyed_total"
LAST_RUN = "plume_delivery_key_retention_last_run_timestamp_seconds"


@dataclass(frozen=True)
class Key:
    key_id: str
    last_used_at: datetime
    contact_consented_at: datetime | None = None


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_a_key_unused_for_its_retention_and_needed_by_nothing_expires() -> None:
    assert RETENTION.expired([Key("old", days_ago(31))], set(), NOW) == ["old"]


def test_a_key_used_within_its_retention_stays() -> None:
    assert RETENTION.expired([Key("recent", days_ago(29)), Key("now", NOW)], set(), NOW) == []


def test_the_retention_ends_exactly_kept_for_after_the_last_use() -> None:
    at_the_end = Key("edge", days_ago(30))
    just_past = Key("past", days_ago(30) - timedelta(microseconds=1))
    assert RETENTION.expired([at_the_end, just_past], set(), NOW) == ["past"]


def test_consent_to_contact_keeps_a_key_past_its_retention() -> None:
    consented = Key("contact", days_ago(400), contact_consented_at=days_ago(401))
    assert RETENTION.expired([consented], set(), NOW) == []


def test_a_name_or_message_still_held_by_delivery_keeps_its_key() -> None:
    keys = [Key("in-a-dossier", days_ago(90)), Key("gone", days_ago(90))]
    assert RETENTION.expired(keys, {"in-a-dossier"}, NOW) == ["gone"]


def test_the_job_reads_from_where_its_retention_ends() -> None:
    assert RETENTION.unused_since(NOW) == days_ago(30)


class FakeKeyExpiry:
    """Keys in order of last use, looked at `size` at a time past the cursor."""

    def __init__(self, keys: list[Key], held: set[str], size: int) -> None:
        self.keys = sorted(keys, key=lambda k: (k.last_used_at, k.key_id))
        self.held, self.size, self.batches = held, size, 0

    async def expire_after(
        self, retention: KeyRetention, now: datetime, after: KeyFacts | None
    ) -> KeyExpiryBatch:
        over = retention.unused_since(now)
        due = [k for k in self.keys if k.last_used_at < over and k.contact_consented_at is None]
        if after is not None:
            cursor = (after.last_used_at, after.key_id)
            due = [k for k in due if (k.last_used_at, k.key_id) > cursor]
        batch = due[: self.size]
        expired = set(retention.expired(batch, self.held, now))
        self.keys = [k for k in self.keys if k.key_id not in expired]
        self.batches += 1
        return KeyExpiryBatch(len(batch), len(expired), batch[-1] if batch else None)


async def test_the_job_walks_past_batches_of_kept_keys_and_counts_what_it_destroys() -> None:
    held = {f"held-{i}" for i in range(5)}  # the oldest: a whole batch destroys nothing
    keys = [Key(k, days_ago(100)) for k in held] + [Key(f"old-{i}", days_ago(50)) for i in range(7)]
    keys += [Key("recent", days_ago(1)), Key("contact", days_ago(60), days_ago(60))]
    expiry = FakeKeyExpiry(keys, held, size=3)
    before = REGISTRY.get_sample_value(DESTROYED) or 0.0

    assert await expire_data_keys(expiry, RETENTION, NOW) == 7

    assert {k.key_id for k in expiry.keys} == held | {"recent", "contact"}
    assert expiry.batches == 5  # 12 keys due, 3 at a time, then the empty batch that ends it
    assert REGISTRY.get_sample_value(DESTROYED) == before + 7
    assert REGISTRY.get_sample_value(LAST_RUN) == NOW.timestamp()
