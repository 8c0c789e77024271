"""Delivery benchmarks (`make bench`), each beside a floor measured in the same run (sizes
times `--scale`):
- 1,000,000 consenting signatures consumed by `plume serve delivery` and cut into CSV
  dossiers (floor: reading the same records raw from Kafka + COPY of the same rows), by
  one process, then by two in one group; then by one process again, on signatures as
  intake writes them, each name sealed with its supporter's data key
  (bench.delivery_million);
- the PDF of one 100,000-signature dossier rendered by the running service, with the
  service's peak RSS (floor: streaming the same rows out of PostgreSQL into a CSV)."""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.delivery_million import million
from bench.delivery_signatures import CASES, TARGET, bench_settings, name_of
from bench.intake_procs import peak_rss_mb
from bench.options import scaled
from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from tests.e2e.delivery.process import Probe, ServiceProcess
from tests.integration.delivery.helpers import (
    case,
    create_topics,
    drop_schema,
    drop_topics,
    new_key,
    publish,
)
from tests.waiting import wait_until

SIGNATURES, PDF_ROWS = 1_000_000, 100_000


async def run() -> list[dict[str, Any]]:
    signatures, pdf_rows = scaled(SIGNATURES), scaled(PDF_ROWS)
    with tempfile.TemporaryDirectory() as folder:
        floor, one, two, sealed_floor, sealed = await million(Path(folder), signatures)
        pdf_seconds, pdf_floor, pdf_rss = await big_pdf(Path(folder), pdf_rows)
    return [
        {
            "name": f"delivery: {signatures:,} signatures consumed + cut into CSV dossiers, from "
            "the first batch stored (floor: raw Kafka read + COPY of the same rows)",
            "figure": round(one.seconds, 1),
            "unit": "s",
            "floor": round(floor, 1),
            "ratio": one.seconds / floor,
            "target": "ratio <= 4",
        },
        {
            "name": "the same: CPU time of the delivery process over that time",
            "figure": round(one.cpu, 1),
            "unit": "s",
        },
        {
            "name": "the same: peak RSS of the delivery process",
            "figure": one.rss,
            "unit": "MB",
            "target": "< 300",
        },
        {
            "name": "the same with two delivery processes in one group (one per core), "
            "from when both are ready (floor: the same)",
            "figure": round(two.seconds, 1),
            "unit": "s",
            "floor": round(floor, 1),
            "ratio": two.seconds / floor,
        },
        {
            "name": "the same: CPU time of the two processes over that time, summed",
            "figure": round(two.cpu, 1),
            "unit": "s",
        },
        {
            "name": f"the same, one process, on {signatures:,} signatures as intake writes them "
            f"(each name sealed with its supporter's data key; {CASES} cases signed by each "
            "supporter) (floor: raw Kafka read + COPY of these)",
            "figure": round(sealed.seconds, 1),
            "unit": "s",
            "floor": round(sealed_floor, 1),
            "ratio": sealed.seconds / sealed_floor,
            "target": "ratio <= 4",
        },
        {
            "name": "the same: CPU time of the delivery process over that time, sealed records",
            "figure": round(sealed.cpu, 1),
            "unit": "s",
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
            "figure": pdf_rss,
            "unit": "MB",
            "target": "< 300",
        },
    ]


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
        rss = round(peak_rss_mb(service.proc.pid))
    finally:
        service.stop()
        await conn.close()
        await drop_schema(settings)
        await drop_topics(settings)
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
