"""Faults injected into the local stack by `make chaos`, and the way back (`make up`, which
starts only what is not running)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("PLUME_HOME", REPO / ".plume"))
if not HOME.is_absolute():
    HOME = REPO / HOME


def pid_of(name: str) -> int:
    return int((HOME / "run" / f"{name}.pid").read_text().split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_gone(pid: int, within: float = 60) -> None:
    async with asyncio.timeout(within):
        while True:
            if not alive(pid):
                return
            await asyncio.sleep(0.05)


async def send_signal(name: str, sig: signal.Signals) -> None:
    """SIGKILL for a crash; SIGTERM stops Kafka; SIGINT is PostgreSQL's fast shutdown."""
    pid = pid_of(name)
    os.kill(pid, sig)
    await wait_gone(pid)


async def bring_back() -> None:
    """`make up` restarts whatever is down and waits until every service is ready."""
    process = await asyncio.create_subprocess_exec(
        "make", "-s", "up", cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _, err = await process.communicate()
    except asyncio.CancelledError:  # the drill's deadline: leave no `make up` behind
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"make up failed while healing: {err.decode()[-2000:]}")


class ExtraCounter:
    """A second counter process in the same consumer group, on a port of its own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = (HOME / "log" / "counter-extra.log").open("ab")
        env = {**os.environ, "PLUME_COUNTER_PORT": str(self.port)}
        self.process = await asyncio.create_subprocess_exec(
            str(REPO / ".venv/bin/plume"),
            "serve",
            "counter",
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
        )
        async with httpx.AsyncClient() as client, asyncio.timeout(60):
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/readyz")).is_success:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)
