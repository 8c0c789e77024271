"""Composition root of the delivery service: `build` makes every part from the settings,
`running` starts them (each long-running task on the supervisor) and closes them in
order, `create_app` serves the API around them. `plume serve delivery` calls `run()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.delivery import service
from services.delivery.adapters.console_sessions import PgConsoleSessions
from services.delivery.adapters.cutting import PgCutter
from services.delivery.adapters.dossier_queries import PgDossierQueries
from services.delivery.adapters.erasing import PgEraser
from services.delivery.adapters.events import KafkaEventPublisher
from services.delivery.adapters.key_retention import PgKeyExpiry
from services.delivery.adapters.ledger import PgTransmissionLedger
from services.delivery.adapters.opening import SealedFields
from services.delivery.adapters.pdf import FontSet
from services.delivery.adapters.rendering import Renderer
from services.delivery.adapters.retention import PgFileRetention
from services.delivery.adapters.senders import EmailSender, WebhookSender
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.adapters.statuses import PgStatuses
from services.delivery.domain.key_retention import KeyRetention
from services.delivery.domain.policy import CutPolicy
from services.delivery.entrypoints import api, console
from services.delivery.entrypoints.action_view import ActionRecord
from services.delivery.entrypoints.console_web import ConsoleParts
from services.delivery.entrypoints.consumer import ActionHandler
from services.delivery.entrypoints.workers import Loops
from services.delivery.settings import DeliverySettings
from shared import apikeys, data_keys
from shared.catalog import CatalogView
from shared.db import close_pool, create_pool, is_reachable, migrate
from shared.dead_letters import KafkaDeadLetters
from shared.http import add_operational_routes
from shared.kafka import durable_producer, manual_consumer
from shared.kafka_probe import KafkaProbe
from shared.lag import ConsumerLag
from shared.logs import configure_logging
from shared.positioned_consumer import PositionedConsumer
from shared.positions import PositionStore
from shared.serve import protect, serve
from shared.supervisor import Supervisor

log = logging.getLogger(__name__)
MIGRATIONS = "services.delivery.adapters.migrations"
STOP_GRACE_S, CLOSE_GRACE_S = 4.0, 2.0
CLIENT_ID = "plume-delivery"
# The bytes a fetch brings of one partition. The consumer's lanes share a batch out by
# partition; at the 4 MiB of shared.kafka, one partition's fetch held some 13,000
# signatures, so a batch of 5,000 came from one partition and ran in one lane while the
# other waited (measured: the lanes' transactions overlapped 1.2x; at 256 KiB, 1.7x).
PARTITION_FETCH_BYTES = 256 * 1024


@dataclass
class Delivery:
    """The running service's parts."""

    settings: DeliverySettings
    pool: asyncpg.Pool
    catalog: CatalogView
    consumer: PositionedConsumer[ActionRecord]
    producer: AIOKafkaProducer
    probe: KafkaProbe
    ledger: PgTransmissionLedger
    publisher: KafkaEventPublisher
    webhook: WebhookSender
    loops: Loops
    lag: ConsumerLag
    api: api.ApiParts
    console: ConsoleParts
    supervisor: Supervisor

    def problem(self) -> str | None:
        """What keeps the service from doing its job: a task down, a stalled consumer."""
        reasons = [r for r in (self.supervisor.problem(), self.consumer.problem()) if r]
        return "; ".join(reasons) or None

    async def ready(self) -> bool:
        return await is_reachable(self.pool) and await self.probe.reachable()


async def build(settings: DeliverySettings) -> Delivery:
    fonts = FontSet.find(settings.font_dir) if settings.render_pdf else None
    master = settings.master_key()  # refuse to start without it, before connecting
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    await migrate(pool, settings.db_schema, MIGRATIONS)
    positions = PositionStore(settings.db_schema)
    async with pool.acquire() as conn:
        await positions.create(conn)
    await apikeys.prepare(pool)
    await data_keys.prepare(pool)
    keys = data_keys.PgDataKeyStore(pool, master)
    lag = ConsumerLag("delivery")
    producer = durable_producer(settings.kafka_bootstrap, CLIENT_ID)
    consumer = _consumer(settings, pool, positions, producer, lag, SealedFields(keys))
    catalog = CatalogView(topic=settings.cases_topic)
    ledger = PgTransmissionLedger(pool, settings.db_schema)
    sealed = asyncio.Event()  # a cut made dossiers: the renderer's wake-up
    cutter = PgCutter(pool, settings.db_schema, sealed)
    publisher = KafkaEventPublisher(producer, settings.dossiers_topic)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    webhook = WebhookSender(secret.encode() if secret else None, settings.webhook_timeout_s)
    email = EmailSender(
        settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_timeout_s
    )
    loops = Loops(
        cutter=cutter,
        catalogue=catalog,
        policy=CutPolicy(settings.cut_size, timedelta(seconds=settings.cut_max_age_s)),
        renderer=Renderer(pool, settings.db_schema, settings.dossier_dir, fonts),
        ledger=ledger,
        senders={"email": email, "webhook": webhook},
        transmission=service.Transmission(
            settings.dossier_dir,
            timedelta(seconds=settings.send_lease_s),
            settings.retry_base_s,
            settings.retry_cap_s,
        ),
        publisher=publisher,
        read_statuses=PgStatuses(pool, settings.db_schema).read,
        retention=PgFileRetention(pool, settings.db_schema, settings.dossier_dir),
        cut_every_s=settings.cut_check_s,
        send_every_s=settings.send_check_s,
        files_kept_for=timedelta(days=settings.file_retention_days),
        retention_every_s=settings.retention_check_s,
        erase=PgEraser(pool, settings.db_schema, settings.dossier_dir).erase_pending,
        key_expiry=PgKeyExpiry(pool, settings.db_schema, keys),
        key_retention=KeyRetention(timedelta(days=settings.data_key_retention_days)),
        render_wake=sealed,
    )
    queries = PgDossierQueries(pool, settings.db_schema)
    api_parts = api.ApiParts(pool, queries, ledger, cutter, catalog, settings.dossier_dir)
    return Delivery(
        settings=settings,
        pool=pool,
        catalog=catalog,
        consumer=consumer,
        producer=producer,
        probe=KafkaProbe(settings.kafka_bootstrap, CLIENT_ID),
        ledger=ledger,
        publisher=publisher,
        webhook=webhook,
        loops=loops,
        lag=lag,
        api=api_parts,
        console=ConsoleParts(
            api_parts,
            PgConsoleSessions(pool, settings.db_schema),
            timedelta(seconds=settings.console_session_s),
        ),
        supervisor=Supervisor("delivery"),
    )


def _consumer(
    settings: DeliverySettings,
    pool: asyncpg.Pool,
    positions: PositionStore,
    producer: AIOKafkaProducer,
    lag: ConsumerLag,
    sealed: SealedFields,
) -> PositionedConsumer[ActionRecord]:
    kafka = manual_consumer(
        settings.kafka_bootstrap,
        settings.group_id,
        CLIENT_ID,
        max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
    )
    dead_letters = KafkaDeadLetters(producer, settings.dlq_topic, settings.group_id, "delivery")
    handler = ActionHandler(PgSignatureStore(settings.db_schema), lag, sealed)
    consumer = PositionedConsumer(
        kafka,
        pool,
        positions,
        settings.actions_topic,
        handler,
        dead_letters,
        max_records=settings.max_batch,
        lanes=settings.consumer_lanes,
        stall_after_s=settings.stall_after_s,
    )
    consumer.on_batch = handler.after_commit
    return consumer


@contextlib.asynccontextmanager
async def running(settings: DeliverySettings) -> AsyncIterator[Delivery]:
    """The service built and running; stopped and closed in order on exit, bounded even
    with the consumer stuck retrying or a statement hung."""
    delivery = await build(settings)
    stop = asyncio.Event()  # the supervisor cancels the tasks; this only ends what is left
    try:
        await delivery.producer.start()
        await delivery.consumer.start()
        _start_tasks(delivery, stop)
        await service.check_webhook_secret(
            delivery.catalog, settings.webhook_secret is not None, settings.catalogue_wait_s
        )
        yield delivery
    finally:
        await delivery.supervisor.stop(STOP_GRACE_S)
        stop.set()
        with contextlib.suppress(Exception):  # last flush; the outbox keeps the rest
            last = service.publish_events(delivery.ledger, delivery.publisher)
            await asyncio.wait_for(last, CLOSE_GRACE_S)
        await delivery.consumer.stop()
        await delivery.producer.stop()
        await delivery.probe.close()
        await delivery.webhook.close()
        await close_pool(delivery.pool, CLOSE_GRACE_S)


# Loops whose absence does not stop the service from doing its work.
HOUSEKEEPING = ("statuses", "retention", "erasures", "key-retention")


def _start_tasks(delivery: Delivery, stop: asyncio.Event) -> None:
    start = delivery.supervisor.start
    start("consumer", lambda: delivery.consumer.run(stop))
    start("catalogue", lambda: delivery.catalog.follow(delivery.settings.kafka_bootstrap, stop))
    start("lag", lambda: delivery.lag.watch(delivery.consumer, stop), readiness=False)
    for name, work in delivery.loops.work(stop).items():
        start(name, work, readiness=name not in HOUSEKEEPING)


def create_app(settings: DeliverySettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings) as delivery:
            app.state.delivery = delivery
            app.state.delivery_api = delivery.api  # what the routes use
            app.state.delivery_console = delivery.console
            try:
                yield
            finally:
                del app.state.delivery

    app = FastAPIOffline(title="plume delivery", lifespan=lifespan)

    def started() -> Delivery | None:
        delivery: Delivery | None = getattr(app.state, "delivery", None)
        return delivery

    async def ready() -> bool:
        delivery = started()
        return delivery is not None and await delivery.ready()

    def problem_of() -> str | None:
        delivery = started()
        return delivery.problem() if delivery else None

    add_operational_routes(app, ready, problem_of)
    api.install(app)
    console.install(app)
    protect(app, settings)
    return app


def run() -> None:
    settings = DeliverySettings()
    configure_logging("delivery", settings.log_level)
    # open connections (a console download) must not hold a shutdown forever
    serve(create_app(settings), settings, timeout_graceful_shutdown=3)
