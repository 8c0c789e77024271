"""Delivery benchmarks (`make bench`), each beside a floor measured in the same run (sizes
times `--scale`):
- 1,000,000 consenting signatures consumed by `plume serve delivery` and cut into CSV
  dossiers (floor: reading the same records raw from Kafka + COPY of the same rows);
- the PDF of one 100,000-signature dossier rendered by the running service, with the
  service's peak RSS (floor: streaming the same rows out of PostgreSQL into a CSV)."""

from __future__ import annotations

import asyncio
import base64
import csv
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import TopicPartition

from bench.options import scaled
from services.delivery.settings import DeliverySettings
from shared.action_ids import new_action_id
from shared.apikeys import Scope
from shared.contracts.actions import ActionEvent, ActionType, Channel
from shared.kafka import durable_producer, encode, manual_consumer
from tests.e2e.delivery.process import Probe, ServiceProcess
from tests.integration.delivery.helpers import (
    case,
    create_topics,
    drop_schema,
    isolated_settings,
    new_key,
    publish,
)
from tests.waiting import wait_until

SIGNATURES, CASES, PDF_ROWS = 1_000_000, 10, 100_000
TARGET = {"id": "authority", "name": "Ministry of Justice", "country": "TN", "language": "en"}
# Mostly Latin names, one in ten in another script, as a worldwide campaign gets them.
OTHER_SCRIPTS = [
    "Иван Петров",
    "Γιώργος Π.",
    "محمد أحمد",
    "王小明",
    "田中太郎",
    "김민수",
    "राम शर्मा",
    "שרה כהן",
    "Nguyễn Văn An",
    "Zoë Ångström",
]


def name_of(i: int) -> str:
    return f"{OTHER_SCRIPTS[i % 100 // 10]} {i}" if i % 100 < 10 else f"Supporter Number {i}"


async def run() -> list[dict[str, Any]]:
    signatures, pdf_rows = scaled(SIGNATURES), scaled(PDF_ROWS)
    with tempfile.TemporaryDirectory() as folder:
        seconds, floor, rss1, cpu = await million(Path(folder), signatures)
        pdf_seconds, pdf_floor, rss2 = await big_pdf(Path(folder), pdf_rows)
    return [
        {
            "name": f"delivery: {signatures:,} signatures consumed + cut into CSV dossiers, from "
            "the first batch stored (floor: raw Kafka read + COPY of the same rows)",
            "figure": round(seconds, 1),
            "unit": "s",
            "floor": round(floor, 1),
            "ratio": seconds / floor,
            "target": "ratio <= 4",
        },
        {
            "name": "the same: CPU time of the delivery process over that time",
            "figure": round(cpu, 1),
            "unit": "s",
        },
        {
            "name": "the same: peak RSS of the delivery process",
            "figure": rss1,
            "unit": "MB",
            "target": "< 300",
        },
        {
            "name": f"delivery: PDF of a {pdf_rows:,}-signature dossier "
            "(floor: the same rows streamed to CSV)",
            "figure": round(pdf_seconds, 1),
            "unit": "s",
            "floor": round(pdf_floor, 2),
            "ratio": pdf_seconds / pdf_floor,
            "target": "ratio <= 10",
        },
        {
            "name": "the same: peak RSS of the delivery process rendering it",
            "figure": rss2,
            "unit": "MB",
            "target": "< 300",
        },
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


async def produce(settings: DeliverySettings, n: int) -> list[str]:
    cases = [f"bench-{i}" for i in range(CASES)]
    now = datetime.now(UTC)
    producer = durable_producer(settings.kafka_bootstrap, "bench-delivery", linger_ms=20)
    await producer.start()
    try:
        for start in range(0, n, 20_000):
            futures = []
            for i in range(start, min(n, start + 20_000)):
                event = ActionEvent(
                    action_id=new_action_id(),  # as intake assigns them
                    case_id=cases[i % CASES],
                    type=ActionType.SIGNATURE,
                    count=1,
                    channel=Channel.WEB,
                    country="FR",
                    supporter_key=f"s{i}",
                    supporter_name=name_of(i),
                    share_name_with_target=True,
                    occurred_at=now,
                    accepted_at=now,
                    source="bench",
                )
                futures.append(
                    await producer.send(
                        settings.actions_topic, key=event.kafka_key(), value=encode(event)
                    )
                )
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return cases


def bench_settings(folder: Path, **overrides: Any) -> DeliverySettings:
    """A delivery of its own, with a master key of its own: the bench's actions carry
    nothing sealed, and `make bench` runs outside the stack's environment (without one,
    the process refuses to start)."""
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    return isolated_settings(folder, supporter_master_key=master, **overrides)


async def million(folder: Path, signatures: int) -> tuple[float, float, int, float]:
    settings = bench_settings(folder, render_pdf=False, cut_size=10_000, cut_check_s=1.0)
    await create_topics(settings, partitions=12)
    cases = await produce(settings, signatures)
    await publish(settings, [case(c, [TARGET]) for c in cases], [])
    floor = await raw_read(settings, signatures) + await raw_copy(settings, signatures)
    service = ServiceProcess(settings, folder / "million.log")
    conn = await asyncpg.connect(settings.database_url)
    probe = Probe(conn, settings.db_schema)
    try:
        starting = asyncio.ensure_future(service.start())

        # From the first batch stored: the process's start (imports, migrations: 10-20 s
        # on a loaded machine) is no part of the work, nor of the floor.
        async def stored() -> int:
            if starting.done():
                starting.result()  # a process that failed to start: its error, at once
            count: int = await probe.scalar("SELECT count(*) FROM {s}.signatures")
            return count

        first = await wait_until(stored, lambda n: n > 0, within=300, every=0.02)
        started = time.perf_counter()
        assert service.proc is not None  # spawned before any row could be stored
        cpu_started = cpu_seconds(service.proc.pid)
        await starting
        # Every record consumed: the positions, committed with the rows they stored. A
        # count(*) of the growing table five times a second (120 ms each at a million
        # rows) took a quarter of a core from the service it measured.
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
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
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
        seconds = (time.perf_counter() - started) * signatures / (signatures - first)
        cpu = (cpu_seconds(service.proc.pid) - cpu_started) * signatures / (signatures - first)
        rss = peak_rss_mb(service.proc.pid)
        kept = await probe.scalar("SELECT count(*) FROM {s}.signatures")
        assert kept == signatures, f"{kept:,} signatures stored of {signatures:,}"
    finally:
        service.stop()
        await conn.close()
        await drop_schema(settings)
    return seconds, floor, rss, cpu


async def raw_read(settings: DeliverySettings, signatures: int) -> float:
    consumer = manual_consumer(settings.kafka_bootstrap, None, "bench-raw")
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.actions_topic, p) for p in range(12)]
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


async def big_pdf(folder: Path, pdf_rows: int) -> tuple[float, float, int]:
    settings = bench_settings(folder, cut_size=10_000_000)
    await create_topics(settings, partitions=1)
    await publish(settings, [case("bench-pdf", [TARGET])], [])
    service = ServiceProcess(settings, folder / "pdf.log")
    conn = await asyncpg.connect(settings.database_url)
    try:
        await service.start()
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "signatures",
            schema_name=settings.db_schema,
            columns=["case_id", "supporter_key", "name", "country", "signed_at"],
            records=[("bench-pdf", f"p{i}", name_of(i), "FR", now) for i in range(pdf_rows)],
        )
        floor = await csv_floor(conn, settings, folder / "floor.csv")
        key = await new_key(settings, {Scope.DOSSIERS_WRITE})
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
            cut = await client.post("/v1/cases/bench-pdf/dossiers", headers={"X-API-Key": key})
        assert cut.status_code == 201, cut.text
        probe = Probe(conn, settings.db_schema)
        await wait_until(
            lambda: probe.scalar("SELECT count(*) FROM {s}.dossiers WHERE files IS NOT NULL"),
            lambda n: n == 1,
            within=600,
            every=0.1,
        )
        seconds = await conn.fetchval(
            "SELECT extract(epoch FROM rendered_at - created_at) "
            f'FROM "{settings.db_schema}".dossiers'
        )
        assert service.proc is not None
        rss = peak_rss_mb(service.proc.pid)
    finally:
        service.stop()
        await conn.close()
        await drop_schema(settings)
    return float(seconds), floor, rss


async def csv_floor(conn: asyncpg.Connection, settings: DeliverySettings, path: Path) -> float:
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        async with conn.transaction():
            cursor = await conn.cursor(
                "SELECT name, country, signed_at "
                f'FROM "{settings.db_schema}".signatures ORDER BY id'
            )
            while chunk := await cursor.fetch(5_000):
                writer.writerows(chunk)
    return time.perf_counter() - started
