"""Readiness tells the truth about the background tasks: kill one from inside the running
intake (through its supervisor) and /readyz answers 503 naming it, then 200 once the
supervisor has restarted it (issue 10, item 3)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.intake.conftest import RunningIntake
from tests.integration.intake.test_status_table import signature
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


async def readiness(client: httpx.AsyncClient) -> tuple[int, str]:
    answer = await client.get("/readyz")
    detail = answer.json().get("detail", "") if answer.status_code == 503 else ""
    return answer.status_code, detail


@pytest.mark.parametrize("task", ["catalogue", "publisher", "keys"])
async def test_a_killed_task_makes_readyz_503_naming_it_then_recovers(
    intake: RunningIntake, client: httpx.AsyncClient, task: str
) -> None:
    assert await readiness(client) == (200, "")
    current = intake.parts.supervisor.task(task)
    assert current is not None and not current.done()
    current.cancel()
    # The keys task empties its memory as it ends, so "not loaded" may come a moment
    # before the supervisor names the task down: wait for the 503 that names it.
    await wait_until(
        lambda: readiness(client),
        lambda answer: answer[0] == 503 and f"{task} is down" in answer[1],
        within=5,
        every=0.02,
    )
    assert await wait_until(lambda: readiness(client), lambda a: a[0] == 200, within=10)
    restarted = intake.parts.supervisor.task(task)
    assert restarted is not None and restarted is not current and not restarted.done()
    # Still takes actions with the restarted task (the publisher writes, the catalogue knows
    # the case).
    assert (await client.post("/v1/actions", json=signature())).status_code == 202


async def test_the_heartbeat_is_restarted_without_turning_readiness(
    intake: RunningIntake, client: httpx.AsyncClient
) -> None:
    """The heartbeat is not needed to take actions (its absence is alerted on by itself)."""
    current = intake.parts.supervisor.task("heartbeat")
    assert current is not None
    current.cancel()

    seen: list[tuple[int, str]] = []

    async def restarted() -> bool:
        seen.append(await readiness(client))
        task = intake.parts.supervisor.task("heartbeat")
        return task is not None and task is not current

    await wait_until(restarted, within=10, every=0.02)
    assert len(seen) > 1, "readiness was looked at while the heartbeat was down"
    assert set(seen) == {(200, "")}, seen
