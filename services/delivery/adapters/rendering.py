"""Render a sealed dossier's files from the database, streaming rows in chunks through a
server-side cursor. Files are written under a temporary name then renamed, and their
SHA-256 recorded; rendering again gives the same content, so a crash midway is harmless.
They hold the names of consenting signers: folders are 0700 and files 0600, private to
the service's user whatever its umask."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from services.delivery.adapters.csv_lines import csv_text, lines_query
from services.delivery.adapters.cut_rows import Span, rows_of
from services.delivery.adapters.pdf import DossierPdf, FontSet
from services.delivery.domain.cover import cover_text, facts_from_snapshots
from services.delivery.domain.csvsafe import safe_cell
from services.delivery.metrics import RENDER_SECONDS, UNREADABLE_NAMES
from shared.contracts.dossiers import DossierKind

CHUNK = 5_000
# A signature's time as the files show it: UTC to the second, 2026-12-10T09:30:00Z, written
# by PostgreSQL (a third of the Python rendering's time went to building and formatting
# a datetime per row). ±infinity (what asyncpg stores for datetime.min and max) shows as
# those, as when Python wrote it.
UTC_SECOND = (
    "to_char(least(greatest(signed_at, '0001-01-01 00:00:00Z'), '9999-12-31 23:59:59Z') "
    """AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
)
Row = tuple[str, str, str]
SIGNATURES_HEADER = ("name", "country", "signed_at")
MESSAGES_HEADER = ("first_name", "country", "message")
log = logging.getLogger(__name__)
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


@dataclass(frozen=True)
class RenderJob:
    dossier_id: uuid.UUID
    cut_id: int
    kind: DossierKind
    target: dict[str, Any]
    case: dict[str, Any]
    count: int
    by_country: dict[str, int]
    further: tuple[int, int]
    created_at: datetime
    revision: int = 0  # bumped by an erasure: a render of an older one is not recorded
    span: Span | None = None  # the signatures it holds, when its cut sealed them by range


def csv_name(kind: DossierKind) -> str:
    return "signatures.csv" if kind is DossierKind.SIGNATURES else "messages.csv"


class Renderer:
    def __init__(
        self, pool: asyncpg.Pool, schema: str, folder: Path, fonts: FontSet | None
    ) -> None:
        self.pool = pool
        self.schema_sql = f'"{schema}"'
        self.folder = folder
        self.fonts = fonts  # None: CSV only
        if fonts is not None:
            fonts.warm_up()

    def path(self, dossier_id: uuid.UUID, name: str) -> Path:
        return self.folder / str(dossier_id) / name

    async def unrendered(self, limit: int = 20) -> list[RenderJob]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT d.id, d.cut_id, d.kind, d.target, d.case_snapshot, d.count, "
                f"d.by_country, d.created_at, d.revision, "
                "c.further_supporters, c.further_countries, c.case_id, c.after_id, c.upto_id "
                f"FROM {self.schema_sql}.dossiers d "
                f"JOIN {self.schema_sql}.cuts c ON c.id = d.cut_id "
                "WHERE d.rendered_at IS NULL ORDER BY d.created_at, d.id LIMIT $1",
                limit,
            )
        return [
            RenderJob(
                r["id"],
                r["cut_id"],
                DossierKind(r["kind"]),
                orjson.loads(r["target"]),
                orjson.loads(r["case_snapshot"]),
                r["count"],
                orjson.loads(r["by_country"]),
                (r["further_supporters"], r["further_countries"]),
                r["created_at"],
                r["revision"],
                Span(r["case_id"], r["after_id"], r["upto_id"])
                if r["upto_id"] is not None
                else None,
            )
            for r in rows
        ]

    async def render(self, job: RenderJob) -> dict[str, str]:
        started = time.perf_counter()
        private_folder(self.folder)  # also closes a folder an older version left open
        folder = self.folder / str(job.dossier_id)
        private_folder(folder)
        files = {csv_name(job.kind): await self._write_csv(job, folder / csv_name(job.kind))}
        if self.fonts is not None:
            files["dossier.pdf"] = await self._write_pdf(job, folder / "dossier.pdf", self.fonts)
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"UPDATE {self.schema_sql}.dossiers SET files = $2, rendered_at = now(), "
                "updated_at = now() WHERE id = $1 AND revision = $3",
                job.dossier_id,
                orjson.dumps(files).decode(),
                job.revision,
            )
        RENDER_SECONDS.labels(job.kind).observe(time.perf_counter() - started)
        return files

    async def _rows(self, job: RenderJob) -> AsyncIterator[list[Row]]:
        if job.kind is DossierKind.SIGNATURES:
            query = f"SELECT name, country, {UTC_SECOND} FROM {self.schema_sql}.signatures "
        else:
            query = (
                f"SELECT coalesce(first_name, ''), country, message FROM "
                f"{self.schema_sql}.solidarity_messages "
            )
        async for chunk in self._fetched(job, f"{query}WHERE {{where}} ORDER BY id"):
            yield [(a, b, c) for a, b, c in chunk]

    async def _fetched(self, job: RenderJob, query: str) -> AsyncIterator[list[asyncpg.Record]]:
        """The rows of `query` ({where}: the job's rows) in chunks, through a cursor."""
        where, args = rows_of(job.span or job.cut_id)
        async with self.pool.acquire() as conn, conn.transaction():
            cursor = await conn.cursor(query.format(where=where), *args)
            while chunk := await cursor.fetch(CHUNK):
                yield chunk

    async def _write_csv(self, job: RenderJob, path: Path) -> str:
        signatures = job.kind is DossierKind.SIGNATURES
        header = SIGNATURES_HEADER if signatures else MESSAGES_HEADER
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            if signatures:  # the time, from UTC_SECOND: digits first, written as it is
                lines = lines_query(f"{self.schema_sql}.signatures", UTC_SECOND, "{where}")
                async for rows in self._fetched(job, lines):
                    out.write(csv_text(rows))
            else:
                async for chunk in self._rows(job):
                    writer.writerows(
                        [(safe_cell(a), safe_cell(b), safe_cell(c)) for a, b, c in chunk]
                    )
        return _publish(tmp, path)

    async def _write_pdf(self, job: RenderJob, path: Path, fonts: FontSet) -> str:
        solidarity = job.kind is DossierKind.SOLIDARITY
        facts = facts_from_snapshots(
            job.target, job.case, job.count, job.by_country, job.further, job.created_at.date()
        )
        cover = cover_text(facts, solidarity)
        pdf = await asyncio.to_thread(DossierPdf, fonts, cover, job.created_at, solidarity)
        await asyncio.to_thread(pdf.write_cover, cover.further)
        async for chunk in self._rows(job):
            await asyncio.to_thread(pdf.add_rows, chunk)
        tmp = path.with_suffix(".tmp")
        await asyncio.to_thread(pdf.save, tmp)
        if pdf.unreadable:
            # The id only, never the names: the CSV has them in full for whoever checks.
            UNREADABLE_NAMES.inc(pdf.unreadable)
            log.warning(
                "dossier %s: %d names have characters no installed font has; they are "
                "incomplete in the PDF, whole in the CSV",
                job.dossier_id,
                pdf.unreadable,
            )
        return _publish(tmp, path)


def private_folder(folder: Path) -> None:
    """Create `folder` (and its parents) if missing; make it the service user's alone."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_FOLDER)


def _publish(tmp: Path, path: Path) -> str:
    """Make private, fsync, rename into place, and return the file's SHA-256."""
    os.chmod(tmp, PRIVATE_FILE)
    digest = hashlib.sha256()
    with tmp.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return digest.hexdigest()
