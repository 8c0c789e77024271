"""The million-signature dossiers benchmark (bench.delivery_bench): 1,000,000 consenting
signatures on a 12-partition topic, consumed by `plume serve delivery` and cut into CSV
dossiers, beside its floor (the same records read raw from Kafka, plus a COPY of the same
rows); then the same records again with two processes in one group (one per core), from
scratch (a schema and group of their own); then, by one process, a million signatures as
intake writes them, each name sealed with its supporter's data key, beside their floor."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from uuid import uuid4

import asyncpg
import httpx
from aiokafka import TopicPartition

from bench.delivery_signatures import (
    CASES,
    TARGET,
    bench_settings,
    drop_data_keys,
    name_of,
    produce,
)
from bench.intake_procs import cpu_seconds, peak_rss_mb
from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from shared.kafka import manual_consumer
from tests.e2e.delivery.process import Probe, ServiceProcess
from tests.integration.delivery.helpers import (
    case,
    create_topics,
    drop_schema,
    drop_topics,
    free_port,
    new_key,
    publish,
)
from tests.waiting import wait_until

PARTITIONS = 12
CUTS = {"render_pdf": False, "cut_size": 10_000, "cut_check_s": 1.0}


class Drained(NamedTuple):
    seconds: float  # from the first batch stored to the last dossier written
    cpu: float  # the delivery processes' CPU time over it, summed
    rss: int  # MB: the largest peak RSS of one process


class Million(NamedTuple):
    floor: float
    one: Drained
    two: Drained
    sealed_floor: float  # the same, of the sealed records
    sealed: Drained  # one process, on records as intake writes them


async def million(folder: Path, signatures: int) -> Million:
    settings = bench_settings(folder, **CUTS)
    try:
        cases, floor = await produced(settings, signatures, sealed=False)
        one = await drained(settings, folder, cases, signatures, 1)
        fresh = settings.model_copy(
            update={"db_schema": f"{settings.db_schema}_2", "group_id": f"bench-{uuid4().hex}"}
        )
        two = await drained(fresh, folder, cases, signatures, 2)
    finally:
        await drop_topics(settings)
    sealed_settings = bench_settings(folder, **CUTS)
    try:
        cases, sealed_floor = await produced(sealed_settings, signatures, sealed=True)
        sealed = await drained(sealed_settings, folder, cases, signatures, 1)
    finally:
        await drop_data_keys(sealed_settings)
        await drop_topics(sealed_settings)
    return Million(floor, one, two, sealed_floor, sealed)


async def produced(
    settings: DeliverySettings, signatures: int, sealed: bool
) -> tuple[list[str], float]:
    """The signatures written to the topic of `settings`, their cases published, and their
    floor measured: the cases and the floor."""
    await create_topics(settings, partitions=PARTITIONS)
    cases = await produce(settings, signatures, sealed)
    await publish(settings, [case(c, [TARGET]) for c in cases], [])
    return cases, await raw_read(settings, signatures) + await raw_copy(settings, signatures)


async def drained(
    settings: DeliverySettings, folder: Path, cases: list[str], signatures: int, processes: int
) -> Drained:
    """The topic's signatures stored and cut into CSV dossiers by `processes` delivery
    processes in one group, timed from when the work is theirs: the first batch stored by
    one process, or once all of several are ready (their start, imports and migrations,
    10-20 s on a loaded machine, is no part of the work, nor of the floor)."""
    services = [
        ServiceProcess(
            settings.model_copy(update={"port": free_port()}) if n else settings,
            folder / f"million-{processes}-{n}.log",
        )
        for n in range(processes)
    ]
    conn = await asyncpg.connect(settings.database_url)
    probe = Probe(conn, settings.db_schema)
    try:
        starting = asyncio.ensure_future(asyncio.gather(*(s.start() for s in services)))

        async def stored() -> int:
            if starting.done():
                starting.result()  # a process that failed to start: its error, at once
            count: int = await probe.scalar("SELECT count(*) FROM {s}.signatures")
            return count

        if processes > 1:
            await starting
        first = await wait_until(stored, lambda n: n > 0, within=300, every=0.02)
        if first >= signatures:
            raise RuntimeError(
                f"all {signatures:,} signatures were stored before the drain could be "
                "timed: run the delivery bench at a larger --scale"
            )
        started = time.perf_counter()
        pids = [s.proc.pid for s in services if s.proc is not None]
        cpu_started = sum(cpu_seconds(pid) for pid in pids)
        await starting
        await _cut(settings, probe, services[0].url, cases, signatures)
        share = signatures / (signatures - first)
        seconds = (time.perf_counter() - started) * share
        cpu = (sum(cpu_seconds(pid) for pid in pids) - cpu_started) * share
        rss = round(max(peak_rss_mb(pid) for pid in pids))
        kept = await probe.scalar("SELECT count(*) FROM {s}.signatures")
        assert kept == signatures, f"{kept:,} signatures stored of {signatures:,}"
    finally:
        for service in services:
            service.stop()
        await conn.close()
        await drop_schema(settings)
    return Drained(seconds, cpu, rss)


async def _cut(
    settings: DeliverySettings, probe: Probe, url: str, cases: list[str], signatures: int
) -> None:
    """Wait for every record consumed, cut the remainders, wait for every file written."""
    # The positions, committed with the rows they stored: a count(*) of the growing table
    # five times a second (120 ms each at a million rows) took a quarter of a core from
    # the service it measured.
    await wait_until(
        lambda: probe.scalar(
            "SELECT sum(next_offset) FROM {s}.consumer_positions "
            f"WHERE topic = '{settings.actions_topic}'"
        ),
        lambda n: n == signatures,
        within=600,
        every=0.2,
    )
    key = await new_key(settings, {Scope.DOSSIERS_WRITE})
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for c in cases:  # the remainders below the size rule
            await client.post(f"/v1/cases/{c}/dossiers", headers={"X-API-Key": key})
    await wait_until(
        lambda: probe.scalar(
            "SELECT coalesce(sum(count), 0) FROM {s}.dossiers WHERE files IS NOT NULL"
        ),
        lambda n: n == signatures,
        within=600,
        every=0.2,
    )


async def raw_read(settings: DeliverySettings, signatures: int) -> float:
    consumer = manual_consumer(settings.kafka_bootstrap, None, "bench-raw")
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.actions_topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, seen = time.perf_counter(), 0
        while seen < signatures:
            batches = await consumer.getmany(timeout_ms=500, max_records=5_000)
            seen += sum(len(b) for b in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def raw_copy(settings: DeliverySettings, signatures: int) -> float:
    now = datetime.now(UTC)
    rows = [(f"bench-{i % CASES}", f"s{i}", name_of(i), "FR", now) for i in range(signatures)]
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("CREATE TEMP TABLE raw (c text, k text, n text, co text, t timestamptz)")
        started = time.perf_counter()
        await conn.copy_records_to_table("raw", records=rows)
        return time.perf_counter() - started
    finally:
        await conn.close()
