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
import time
from dataclasses import dataclass
from pathlib import Path

from ops import cluster_faults, faults
from ops.endpoints import Endpoints, temporary_keys, wait_for_case
from ops.ledger import RequestLog, steady_load
from ops.load import Outcome, RetryPolicy
from ops.verify import Verdict, verify
from shared.apikeys import Scope
from tests.throwaway import free_port

SINGLE_NODE_FAULTS = (
    "kill -9 intake",
    "kill -9 counter",
    "kill -9 delivery",
    "stop Kafka",
    "stop PostgreSQL",
    "two counters, kill -9 one",
)
CLUSTER_FAULTS = (
    "kill -9 intake",
    "kill -9 counter",
    "kill -9 delivery",
    "stop PostgreSQL",
    cluster_faults.KILL_LEADER,
    cluster_faults.KILL_FOLLOWER,
    cluster_faults.STOP_TWO_NODES,
    cluster_faults.ROLLING_RESTART,
)
ONE_OF_SEVERAL = "kill -9 the last counter instance and the last delivery instance"
# Answers that reach the client this long after the fault may not be acknowledgements of
# writes made before it (intake answers the moment Kafka acknowledges).
IN_FLIGHT_MARGIN_S = 2.0
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


def fault_plan() -> tuple[str, ...]:
    """The single node's faults, or the cluster's (and one of several instances killed
    when several run)."""
    if cluster_faults.kafka_nodes() < 3:
        return SINGLE_NODE_FAULTS
    several = min(cluster_faults.instances("counter"), cluster_faults.instances("delivery"))
    return (*CLUSTER_FAULTS, *([ONE_OF_SEVERAL] if several > 1 else []))


CLUSTER_INJECTIONS = {
    cluster_faults.KILL_LEADER: cluster_faults.kill_busiest_leader,
    cluster_faults.KILL_FOLLOWER: cluster_faults.kill_quietest_node,
    cluster_faults.STOP_TWO_NODES: cluster_faults.stop_two_nodes,
    cluster_faults.ROLLING_RESTART: cluster_faults.rolling_restart,
    ONE_OF_SEVERAL: cluster_faults.kill_one_of_each_consumer,
}


async def inject(fault: str, extra: faults.ExtraCounter) -> None:
    if fault in CLUSTER_INJECTIONS:
        await CLUSTER_INJECTIONS[fault]()
    elif fault.startswith("kill -9 "):
        await faults.send_signal(fault.removeprefix("kill -9 "), signal.SIGKILL)
    elif fault == "stop Kafka":
        await faults.send_signal("kafka", signal.SIGTERM)
    elif fault == "stop PostgreSQL":
        await faults.send_signal("postgres", signal.SIGINT)  # fast shutdown
    else:  # two counters share the partitions, then the stack's own one crashes
        await extra.start()
        await faults.send_signal("counter", signal.SIGKILL)


@dataclass
class Phase:
    """One fault: when it was injected and when the stack was whole again."""

    fault: str
    injected_at: float
    broken_at: float | None = None  # the fault done (nodes gone), the stack not yet healing
    healing_at: float | None = None
    healed_at: float | None = None


async def run_faults(
    log: RequestLog, phases: list[Phase], extra: faults.ExtraCounter, dwell: float
) -> None:
    for fault in fault_plan():
        await asyncio.sleep(dwell)  # steady traffic before each fault
        print(f"fault: {fault} (requests so far {len(log.sent):,})", flush=True)
        phase = Phase(fault, time.monotonic())
        phases.append(phase)
        await inject(fault, extra)
        phase.broken_at = time.monotonic()
        await asyncio.sleep(max(dwell, IN_FLIGHT_MARGIN_S * 2))  # traffic while broken
        phase.healing_at = time.monotonic()
        await faults.bring_back()
        if cluster_faults.kafka_nodes() > 1:  # the next fault meets a whole cluster
            await cluster_faults.all_in_sync()
        phase.healed_at = time.monotonic()
    await asyncio.sleep(dwell)


def fault_errors(log: RequestLog, phases: list[Phase]) -> list[str]:
    """What the cluster's faults must show beyond the common checks: one node left alone
    acknowledges nothing (min.insync.replicas=2), and a rolling restart refuses nothing."""
    errors = []
    for phase, after in zip(phases, [*phases[1:], None], strict=True):
        if phase.fault == cluster_faults.STOP_TWO_NODES and phase.broken_at and phase.healing_at:
            start, end = phase.broken_at + IN_FLIGHT_MARGIN_S, phase.healing_at
            accepted = log.accepted_between(start, end)
            if accepted:
                errors.append(f"{phase.fault}: {accepted} writes acknowledged by one node")
        if phase.fault == cluster_faults.ROLLING_RESTART:
            end = after.injected_at if after else float("inf")
            refused = log.refusals_between(phase.injected_at, end)
            if refused:  # when, and which answer: what a diagnosis starts from
                seen = ", ".join(
                    f"+{a.at - phase.injected_at:.1f} s: {a.status or a.error}" for a in refused[:5]
                )
                errors.append(
                    f"{phase.fault}: {len(refused)} writes refused (target: none; {seen})"
                )
    return errors


def refusal_windows(log: RequestLog, phases: list[Phase]) -> list[str]:
    """Per fault: the refused write attempts from its injection until the next fault."""
    lines = []
    for phase, after in zip(phases, [*phases[1:], None], strict=True):
        end = after.injected_at if after else float("inf")
        refused, seconds = log.refused_between(phase.injected_at, end)
        lines.append(f"  {phase.fault}: writes refused for {seconds:.1f} s ({refused:,} attempts)")
    return lines


async def drill(rate: float, dwell: float, deadline: float) -> Verdict:
    """The faults under load, then the checks; within `deadline` seconds in all, whatever
    the stack does (an unfinished run ends INCOMPLETE, never hangs)."""
    ends = Endpoints.from_env()
    log = RequestLog(case_id="pending")
    log.case_id = f"chaos-{log.run}"
    load_chaos_case(log.case_id)
    extra = faults.ExtraCounter(free_port())
    phases: list[Phase] = []
    ends_at = time.monotonic() + deadline
    async with temporary_keys("chaos", ROLES) as keys:
        await wait_for_case(ends.intake, log.case_id)
        stop = asyncio.Event()
        policy = RetryPolicy(give_up_after_s=min(60.0, deadline / 10))
        load = asyncio.create_task(
            steady_load(log, ends.intake, keys["web"], rate, stop, policy=policy)
        )
        unfinished = None
        try:
            async with asyncio.timeout_at(_loop_time(ends_at - policy.give_up_after_s - 120)):
                await run_faults(log, phases, extra, dwell)
        except TimeoutError:
            unfinished = "deadline: the faults did not finish in time"
        except RuntimeError as exc:  # the stack did not heal (make up failed)
            unfinished = f"the stack did not heal: {str(exc)[-300:]}"
        finally:
            stop.set()
            await load
            await extra.stop()
        verdict = Verdict({o.value: log.count(o) for o in Outcome}, len(phases))
        verdict.fault_errors = fault_errors(log, phases)
        verdict.notes = [
            *([unfinished] if unfinished else []),
            f"not sent (cap of requests in flight reached): {log.not_sent:,}",
            f"still retrying when the load stopped (unknown): {log.cancelled:,}",
            "refusal windows:",
            *refusal_windows(log, phases),
        ]
        try:
            async with asyncio.timeout_at(_loop_time(ends_at)):
                await verify(log, ends, keys["delivery"], verdict)
            verdict.complete = unfinished is None
        except (TimeoutError, OSError) as exc:
            verdict.complete = False
            verdict.notes.append(f"the checks did not finish: {type(exc).__name__}")
        return verdict


def _loop_time(monotonic_at: float) -> float:
    """asyncio's clock at the time.monotonic() instant given (both monotonic clocks)."""
    return asyncio.get_running_loop().time() + (monotonic_at - time.monotonic())


def main() -> None:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--rate", type=float, default=100, help="requests per second")
    parser.add_argument("--dwell", type=float, default=4, help="seconds before/while broken")
    parser.add_argument(
        "--deadline", type=float, default=600, help="seconds the whole drill may take"
    )
    args = parser.parse_args()
    verdict = asyncio.run(drill(args.rate, args.dwell, args.deadline))
    print(verdict.report())
    sys.exit(0 if verdict.clean else 1)


if __name__ == "__main__":
    main()
