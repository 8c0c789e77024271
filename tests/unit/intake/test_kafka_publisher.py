"""The batching publisher: concurrent requests share batches, and each is woken only once
every batch holding its events is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from services.intake.adapters.kafka_publisher import KafkaActionPublisher
from services.intake.domain.ports import PublishUnavailable
from shared.contracts.action_record import ActionRecord, event_of, record_of
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.kafka import encode
from tests.unit.intake.fakes import FakeProducer
from tests.waiting import wait_until

pytestmark = pytest.mark.unit
NOW = datetime(2025, 12, 10, tzinfo=UTC)


def make_event(n: int = 0) -> ActionRecord:
    return record_of(
        ActionEvent(
            action_id=uuid4(),
            case_id="sonia-dahmani",
            type=ActionType.TWEET,
            count=1,
            channel=Channel.WEB,
            occurred_at=NOW,
            accepted_at=NOW,
            source="anonymous",
            supporter_key=f"key-{n}",
        )
    )


@pytest.fixture
async def producer() -> FakeProducer:
    return FakeProducer()


@contextlib.asynccontextmanager
async def running(producer: FakeProducer, **options: Any) -> AsyncIterator[KafkaActionPublisher]:
    """The publisher with its sender running, as the supervisor runs it in the service."""
    settings: dict[str, Any] = {"timeout_s": 2.0, "retry_after_s": 5.0, **options}
    publisher = KafkaActionPublisher(producer, "actions", **settings)
    await publisher.start()
    sender = asyncio.create_task(publisher.run())
    try:
        yield publisher
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


@pytest.fixture
async def publisher(producer: FakeProducer) -> AsyncIterator[KafkaActionPublisher]:
    async with running(producer) as publisher:
        yield publisher


async def test_concurrent_requests_share_one_batch_per_partition(
    producer: FakeProducer, publisher: KafkaActionPublisher
) -> None:
    events = [make_event(n) for n in range(200)]
    await asyncio.gather(*(publisher.publish([e]) for e in events))
    assert len(producer.sent) <= len(producer.partitions)
    assert sum(len(b.builder.records) for b in producer.sent) == 200
    written = {value for b in producer.sent for _, value in b.builder.records}
    # as pydantic writes the events (the contract's model), byte for byte
    assert written == {encode(event_of(e)) for e in events}


async def test_one_supporter_always_lands_on_one_partition(
    producer: FakeProducer, publisher: KafkaActionPublisher
) -> None:
    for _ in range(5):
        await publisher.publish([make_event(7)])
    assert len({b.partition for b in producer.sent}) == 1


async def test_a_request_waits_for_every_batch_holding_its_events(
    producer: FakeProducer, publisher: KafkaActionPublisher
) -> None:
    producer.auto_ack = False
    producer.capacity = 2
    request = asyncio.create_task(publisher.publish([make_event(1)] * 5))  # 3 batches
    while len(producer.sent) < 3:
        producer.sent_event.clear()
        await asyncio.wait_for(producer.sent_event.wait(), 1)
    producer.sent[0].ack.set_result(None)
    producer.sent[2].ack.set_result(None)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not request.done()
    producer.sent[1].ack.set_result(None)
    await asyncio.wait_for(request, 1)


async def test_a_failed_batch_fails_its_requests_and_opens_the_circuit(
    producer: FakeProducer, publisher: KafkaActionPublisher
) -> None:
    producer.auto_ack = False
    request = asyncio.create_task(publisher.publish([make_event()]))
    await asyncio.wait_for(producer.sent_event.wait(), 1)
    producer.sent[0].ack.set_exception(RuntimeError("broker gone"))
    with pytest.raises(PublishUnavailable):
        await request
    assert not publisher.available()
    with pytest.raises(PublishUnavailable):  # refused at once while the circuit is open
        await publisher.publish([make_event()])
    assert len(producer.sent) == 1


async def test_no_acknowledgement_within_the_timeout_is_unavailable(
    producer: FakeProducer,
) -> None:
    producer.auto_ack = False
    async with running(producer, timeout_s=0.05, retry_after_s=0.05) as publisher:
        with pytest.raises(PublishUnavailable):
            await publisher.publish([make_event()])
        assert not publisher.available()

        async def available() -> bool:
            return publisher.available()

        await wait_until(available, within=1, every=0.01)
        producer.auto_ack = True
        await publisher.publish([make_event()])


async def test_a_slow_partition_refuses_its_own_write_but_not_everyone_s(
    producer: FakeProducer,
) -> None:
    """A partition whose leader is moving times out while the others are acknowledged:
    that write is refused (503), and the rest go on being taken — no refusal window."""
    producer.auto_ack = False
    slow, quick = _events_on_two_partitions()
    async with running(producer, timeout_s=0.2, retry_after_s=5.0) as publisher:
        stuck = asyncio.create_task(publisher.publish([slow]))
        await asyncio.wait_for(producer.sent_event.wait(), 1)
        producer.auto_ack = True  # every later batch is acknowledged at once
        await publisher.publish([quick])
        with pytest.raises(PublishUnavailable):
            await stuck
        assert publisher.available()
        await publisher.publish([slow])


def _events_on_two_partitions() -> tuple[ActionRecord, ActionRecord]:
    by_partition: dict[int, ActionRecord] = {}
    for n in range(20):
        event = make_event(n)
        by_partition.setdefault(zlib.crc32(event.kafka_key()) % 3, event)
    first, second, *_ = by_partition.values()
    return first, second


async def test_a_blocked_event_loop_does_not_make_kafka_look_down(
    producer: FakeProducer,
) -> None:
    """The acknowledgement arrives while the loop is blocked past the timeout (decoding a
    large batch, say): when the loop runs again, both are due at once. The write was
    acknowledged; it must count as such and the publisher must stay available."""
    producer.auto_ack = False
    async with running(producer, timeout_s=0.2, retry_after_s=5.0) as publisher:
        request = asyncio.create_task(publisher.publish([make_event()]))
        await asyncio.wait_for(producer.sent_event.wait(), 1)
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, time.sleep, 0.5)  # the loop blocked, well past the timeout
        loop.call_later(0.05, producer.sent[0].ack.set_result, None)  # due meanwhile
        await asyncio.wait_for(request, 2)
        assert publisher.available()


async def test_a_request_cancelled_while_waiting_leaves_its_batch_mates_answered(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client gone (its request cancelled) while its batch is in flight: the batch's
    acknowledgement still wakes the others, no timer fires later, the publisher stays up."""
    producer.auto_ack = False
    timers: list[asyncio.TimerHandle] = []
    loop = asyncio.get_running_loop()
    schedule = loop.call_later

    def recorded(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        timers.append(schedule(delay, callback, *args))
        return timers[-1]

    monkeypatch.setattr(loop, "call_later", recorded)
    async with running(producer, timeout_s=0.3, retry_after_s=5.0) as publisher:
        gone = asyncio.create_task(publisher.publish([make_event(1)]))
        stays = asyncio.create_task(publisher.publish([make_event(1)]))
        await asyncio.wait_for(producer.sent_event.wait(), 1)
        assert len(producer.sent) == 1  # one partition, one batch holding both
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        producer.sent[0].ack.set_result(None)
        await asyncio.wait_for(stays, 1)
        later = [t for t in timers if not t.cancelled() and t.when() > loop.time()]
        assert timers and later == []  # no timer is left to fire later
        assert publisher.available()
        assert gone.cancelled()
