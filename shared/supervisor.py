"""One way to run a service's background work: every long-running task is started and
watched here; a task that dies is restarted with a growing pause, and while a task that
readiness depends on is down, `problem()` names it (the `/readyz` 503's detail)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

log = logging.getLogger(__name__)

Work = Callable[[], Coroutine[Any, Any, None]]
FIRST_PAUSE_S = 1.0  # long enough for a probe polling /readyz to see the task down
MAX_PAUSE_S = 30.0
STEADY_S = 60.0  # a task that ran this long before dying starts again at FIRST_PAUSE_S

RESTARTS = Counter(
    "plume_task_restarts_total",
    "Background tasks restarted after they died (crash or unexpected return), by task.",
    ["service", "task"],
)


@dataclass
class _Watched:
    name: str
    work: Work
    readiness: bool
    down_since: float | None = None
    reason: str = ""
    runner: asyncio.Task[None] | None = field(default=None, repr=False)
    current: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Starts named tasks and keeps them running until `stop()`; a task's coroutine is
    expected to run until cancelled, so returning early counts as dying too."""

    def __init__(self, service: str, first_pause_s: float = FIRST_PAUSE_S) -> None:
        self._service = service
        self._first_pause_s = first_pause_s
        self._watched: dict[str, _Watched] = {}
        self._stopping = False

    def start(self, name: str, work: Work, *, readiness: bool = True) -> None:
        """Run `work()` as task `name`, again after each death. With `readiness`, the
        service is not ready while this task is down."""
        if name in self._watched:
            raise ValueError(f"task {name!r} already runs")
        watched = _Watched(name, work, readiness)
        watched.runner = asyncio.create_task(self._keep_running(watched), name=name)
        self._watched[name] = watched

    def problem(self) -> str | None:
        """Why the service is not ready because of its tasks, or None."""
        down = [w for w in self._watched.values() if w.readiness and w.down_since is not None]
        if not down:
            return None
        return "; ".join(f"{w.name} is down ({w.reason}), restarting" for w in down)

    def task(self, name: str) -> asyncio.Task[None] | None:
        """The current run of task `name` (tests kill it to see readiness turn and recover)."""
        watched = self._watched.get(name)
        return watched.current if watched else None

    async def stop(self, grace_s: float = 5.0) -> None:
        """Cancel every task and wait up to `grace_s` for them to end."""
        self._stopping = True
        runners = [w.runner for w in self._watched.values() if w.runner is not None]
        for runner in runners:
            runner.cancel()
        if runners:
            _, late = await asyncio.wait(runners, timeout=grace_s)
            for runner in late:
                log.warning("task still running at stop", extra={"task": runner.get_name()})

    async def _keep_running(self, watched: _Watched) -> None:
        pause = self._first_pause_s
        while not self._stopping:
            started = time.monotonic()
            current = asyncio.create_task(watched.work(), name=f"{watched.name}-run")
            watched.current = current
            try:
                await current
                watched.reason = "it returned"
            except asyncio.CancelledError:
                if current.cancelled() and not self._stopping and not _outer_cancelled():
                    watched.reason = "it was cancelled"
                else:
                    current.cancel()
                    raise
            except Exception as exc:
                watched.reason = type(exc).__name__  # the type only: messages may hold data
            if self._stopping:
                return
            if time.monotonic() - started >= STEADY_S:
                pause = self._first_pause_s
            watched.down_since = time.monotonic()
            RESTARTS.labels(self._service, watched.name).inc()
            log.error("background task died", extra={"task": watched.name, "error": watched.reason})
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
            watched.down_since = None


def _outer_cancelled() -> bool:
    """Whether the runner itself is being cancelled (stop), not only the run it awaits."""
    me = asyncio.current_task()
    return me is not None and me.cancelling() > 0
