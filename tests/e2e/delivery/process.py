"""`plume serve delivery` as a child process that a test can SIGKILL, and probes of its
database from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import zlib
from pathlib import Path

import asyncpg
import httpx

from services.delivery.settings import DeliverySettings
from shared.contracts.dossiers import DossierKind
from tests.integration.delivery.helpers import service_env
from tests.serving import REPO, serve_command
from tests.waiting import wait_until


class ServiceProcess:
    def __init__(self, settings: DeliverySettings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{settings.port}"

    def spawn(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                serve_command("delivery"),
                cwd=REPO,
                env=service_env(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self.spawn()  # Popen returns at once; readiness is polled below

        async def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"delivery exited: {self.log.read_text()[-2000:]}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(healthy, within=60, every=0.1)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Probe:
    """Reads the service's schema from outside the service."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self.conn = conn
        self.s = f'"{schema}"'
        self.schema = schema

    async def scalar(self, sql: str) -> int:
        try:
            value = await self.conn.fetchval(sql.replace("{s}", self.s))
        except asyncpg.UndefinedTableError:
            return -1
        return int(value or 0)

    async def cut_in_flight(self, case_id: str) -> bool:
        """A cut of this case's signatures is running right now in some backend: its
        transaction holds the case's cutting lock (taken first, released at its end)."""
        key = zlib.crc32(f"{self.schema}:{case_id}:{DossierKind.SIGNATURES}".encode())
        return bool(
            await self.conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND mode = 'ExclusiveLock' AND classid = 0 AND objid = $1::bigint::oid "
                "AND objsubid = 1 AND pid <> pg_backend_pid()",
                key,
            )
        )

    async def no_open_transaction(self) -> bool:
        """The killed service's backends are gone (their transactions rolled back)."""
        n = await self.conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 "
            "AND state <> 'idle' AND pid <> pg_backend_pid()",
            f'%"{self.schema}"%',
        )
        return bool(n == 0)
