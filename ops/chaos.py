"""`make chaos`: under steady load, crash and stop each part of the local stack in turn,
then prove from the outside that no acknowledged action was lost, none was counted twice,
none that was refused was counted, and every consenting signature is in exactly one
dossier per target."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ops import faults
from ops.endpoints import Endpoints, temporary_keys, wait_for_case
from ops.ledger import RequestLog, steady_load
from ops.verify import Verdict, verify
from shared.apikeys import Scope
from tests.throwaway import free_port

FAULTS = (
    "kill -9 intake",
    "kill -9 counter",
    "kill -9 delivery",
    "stop Kafka",
    "stop PostgreSQL",
    "two counters, kill -9 one",
)
ROLES = {"web": {Scope.ACTIONS_WRITE}, "delivery": {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE}}


def load_chaos_case(case_id: str) -> None:
    """A case of its own, with two targets, so the checks see only this run's actions."""
    target = {"country": "FR", "language": "fr", "delivery": {"channel": "manual"}}
    campaign = {
        "id": "plume-chaos",
        "name": "plume chaos drill",
        "milestones": [],
        "cases": [
            {
                "id": case_id,
                "name": "Chaos drill",
                "country": "FR",
                "status": "open",
                "targets": [
                    {**target, "id": "first-target", "name": "First target"},
                    {**target, "id": "second-target", "name": "Second target"},
                ],
            }
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(campaign, file)
    try:
        subprocess.run(
            [str(faults.REPO / ".venv/bin/plume"), "campaign", "load", file.name],
            check=True,
            capture_output=True,
            timeout=60,
        )
    finally:
        Path(file.name).unlink()


async def inject(fault: str, extra: faults.ExtraCounter) -> None:
    if fault.startswith("kill -9 "):
        await faults.send_signal(fault.removeprefix("kill -9 "), signal.SIGKILL)
    elif fault == "stop Kafka":
        await faults.send_signal("kafka", signal.SIGTERM)
    elif fault == "stop PostgreSQL":
        await faults.send_signal("postgres", signal.SIGINT)  # fast shutdown
    else:  # two counters share the partitions, then the stack's own one crashes
        await extra.start()
        await faults.send_signal("counter", signal.SIGKILL)


async def drill(rate: float, dwell: float) -> Verdict:
    ends = Endpoints.from_env()
    log = RequestLog(case_id="pending")
    log.case_id = f"chaos-{log.run}"
    load_chaos_case(log.case_id)
    extra = faults.ExtraCounter(free_port())
    async with temporary_keys("chaos", ROLES) as keys:
        await wait_for_case(ends.intake, log.case_id)
        stop = asyncio.Event()
        load = asyncio.create_task(steady_load(log, ends.intake, keys["web"], rate, stop))
        try:
            for fault in FAULTS:
                await asyncio.sleep(dwell)  # steady traffic before each fault
                print(f"fault: {fault} (requests so far {len(log.sent):,})", flush=True)
                await inject(fault, extra)
                await asyncio.sleep(dwell)  # traffic while broken
                await faults.bring_back()
            await asyncio.sleep(dwell)
        finally:
            stop.set()
            await load
            await extra.stop()
        return await verify(log, ends, keys["delivery"], faults_injected=len(FAULTS))


def main() -> None:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--rate", type=float, default=100, help="requests per second")
    parser.add_argument("--dwell", type=float, default=4, help="seconds before/while broken")
    args = parser.parse_args()
    verdict = asyncio.run(drill(args.rate, args.dwell))
    print(verdict.report())
    sys.exit(0 if verdict.clean else 1)


if __name__ == "__main__":
    main()
