"""Composition root: builds the delivery service's parts from its settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer

from services.delivery.adapters.cutting import PgCutter
from services.delivery.adapters.ledger import PgTransmissionLedger
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.domain.policy import CutPolicy
from services.delivery.entrypoints.consumer import ActionHandler, Received
from services.delivery.settings import DeliverySettings
from shared import apikeys
from shared.catalog import CatalogView
from shared.db import create_pool, migrate
from shared.dead_letters import KafkaDeadLetters
from shared.kafka import durable_producer, manual_consumer
from shared.lag import ConsumerLag
from shared.positioned_consumer import PositionedConsumer
from shared.positions import PositionStore

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    settings: DeliverySettings
    pool: asyncpg.Pool
    catalog: CatalogView
    consumer: PositionedConsumer[Received]
    producer: AIOKafkaProducer
    cutter: PgCutter
    ledger: PgTransmissionLedger
    policy: CutPolicy
    lag: ConsumerLag
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def build(settings: DeliverySettings) -> Delivery:
    pool = await create_pool(settings.database_url, max_size=10)
    await migrate(pool, settings.db_schema, "services.delivery.migrations")
    positions = PositionStore(settings.db_schema)
    async with pool.acquire() as conn:
        await positions.create(conn)
    await apikeys.prepare(pool)
    kafka = manual_consumer(settings.kafka_bootstrap, settings.consumer_group, "plume-delivery")
    lag = ConsumerLag("delivery")
    producer = durable_producer(settings.kafka_bootstrap, "plume-delivery")
    dead_letters = KafkaDeadLetters(
        producer, settings.dlq_topic, settings.consumer_group, "delivery"
    )
    handler = ActionHandler(PgSignatureStore(settings.db_schema), lag)
    consumer = PositionedConsumer(
        kafka,
        pool,
        positions,
        settings.actions_topic,
        handler,
        dead_letters,
        max_records=settings.max_batch,
        stall_after_s=settings.stall_after_s,
    )
    consumer.on_batch = handler.after_commit
    return Delivery(
        settings=settings,
        pool=pool,
        catalog=CatalogView(topic=settings.cases_topic),
        consumer=consumer,
        producer=producer,
        cutter=PgCutter(settings.db_schema),
        ledger=PgTransmissionLedger(pool, settings.db_schema),
        policy=CutPolicy(settings.cut_size, timedelta(seconds=settings.cut_max_age_seconds)),
        lag=lag,
    )
