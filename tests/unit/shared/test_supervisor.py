"""The supervisor restarts a task that dies and names it while it is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared.supervisor import RESTARTS, Supervisor
from tests.waiting import wait_until


def holds(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return condition()

    return probe


async def test_a_task_that_dies_is_named_until_it_runs_again() -> None:
    runs: list[int] = []
    crash = asyncio.Event()

    async def work() -> None:
        runs.append(1)
        if len(runs) == 1:
            await crash.wait()
            raise RuntimeError("secret@example.org")  # the message must not be reported
        await asyncio.Event().wait()

    supervisor = Supervisor("test", first_pause_s=0.2)
    supervisor.start("consumer", work)
    await wait_until(holds(lambda: len(runs) == 1))
    assert supervisor.problem() is None
    before = RESTARTS.labels("test", "consumer")._value.get()
    crash.set()
    await wait_until(holds(lambda: supervisor.problem() is not None))
    reason = supervisor.problem() or ""
    assert "consumer is down (RuntimeError)" in reason and "example.org" not in reason
    await wait_until(holds(lambda: len(runs) == 2 and supervisor.problem() is None))
    assert RESTARTS.labels("test", "consumer")._value.get() == before + 1
    await supervisor.stop()


async def test_a_killed_run_is_restarted_and_stop_ends_everything() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    supervisor = Supervisor("test", first_pause_s=0.2)
    supervisor.start("follower", forever, readiness=False)
    supervisor.start("loop", forever)
    await wait_until(holds(lambda: supervisor.task("loop") is not None))
    first = supervisor.task("loop")
    assert first is not None
    first.cancel()
    await wait_until(holds(lambda: supervisor.problem() is not None))
    assert "follower" not in (supervisor.problem() or "")
    restarted = holds(lambda: supervisor.task("loop") is not first and not supervisor.problem())
    await wait_until(restarted)
    await supervisor.stop(grace_s=1.0)
    runs = [supervisor.task(name) for name in ("follower", "loop")]
    assert all(run is not None and run.done() for run in runs)
