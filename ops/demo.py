"""`make demo`: a Write for Rights day, compressed, against the local stack. Browsers post
single actions along the 10 December peak curve, a partner system posts batches, a letter
marathon posts tallies; the terminal shows progress and the live totals the counter serves
("this run" counts only this run's own accepted actions); at the end every case's dossiers
are cut and listed (`--no-cut` skips that, for a shared instance). Requests in flight are
capped; refused writes are retried with their action_id. Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from ops.endpoints import Endpoints, local_infra, temporary_keys
from ops.load import CLIENT_TIMEOUT_S, BoundedLoad, Outcome, RetryPolicy, post_action
from ops.traffic import TrafficMaker, peak_rate
from shared.apikeys import Scope

# Polite to a shared instance: Retry-After honoured up to 2 s, an action given up after 30 s.
RETRY = RetryPolicy(give_up_after_s=30, max_pause_s=2)
ROLES = {
    "web": {Scope.ACTIONS_WRITE},
    "partner": {Scope.ACTIONS_BATCH},
    "marathon": {Scope.ACTIONS_WRITE, Scope.ACTIONS_TALLY},
    "delivery": {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE},
}


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    unknown: int = 0
    expected: int = 0  # how much this run's accepted actions raise the totals
    by_case: dict[str, int] = field(default_factory=dict)  # this run's accepted, per case
    by_outcome: dict[str, int] = field(default_factory=dict)

    def record(self, outcome: Outcome, action: dict[str, Any], status: int | None) -> None:
        self.sent += 1
        name = f"{outcome.value} ({status or 'no answer'})"
        self.by_outcome[name] = self.by_outcome.get(name, 0) + 1
        if outcome is Outcome.OK:
            weight = action.get("count", 1)
            self.accepted += 1
            self.expected += weight
            self.by_case[action["case_id"]] = self.by_case.get(action["case_id"], 0) + weight
        elif outcome is Outcome.REFUSED:
            self.refused += 1
        else:
            self.unknown += 1


async def post_single(
    client: httpx.AsyncClient, url: str, key: str, action: dict[str, Any], tally: Tally
) -> None:
    """One action, retried with its action_id while intake cannot take it (ops.load)."""
    posted = await post_action(client, f"{url}/v1/actions", action, {"X-API-Key": key}, RETRY)
    tally.record(posted.outcome, action, posted.attempts[-1].status)


async def post_batch(
    client: httpx.AsyncClient, url: str, key: str, actions: list[dict[str, Any]], tally: Tally
) -> None:
    """A partner's batch; a 503 is retried whole with the same action_ids."""
    posted = await post_action(
        client, f"{url}/v1/actions/batch", {"actions": actions}, {"X-API-Key": key}, RETRY
    )
    status = posted.attempts[-1].status
    if posted.outcome is not Outcome.OK or not isinstance(posted.body, dict):
        for action in actions:
            tally.record(posted.outcome, action, status)
        return
    for result in posted.body["results"]:
        accepted = result["status"] == "accepted"
        outcome, item_status = (Outcome.OK, 202) if accepted else (Outcome.REFUSED, 422)
        tally.record(outcome, actions[result["index"]], item_status)


def totals_table(totals: dict[str, Any], tally: Tally) -> Table:
    table = Table(title=f"Live totals — grand total {totals.get('total', 0):,}")
    for column in ("case", "total", "this run", "top countries", "updated"):
        table.add_column(column, justify="right" if column in ("total", "this run") else "left")
    for case in totals.get("cases", []):
        top = sorted(case["by_country"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            case["case_id"],
            f"{case['total']:,}",
            f"{tally.by_case.get(case['case_id'], 0):,}",
            " ".join(f"{c}:{n}" for c, n in top),
            str(case["updated_at"] or "")[11:23],
        )
    return table


async def read_totals(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await client.get(f"{url}/v1/totals")
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


class Day:
    """The traffic of the day: what to offer the bounded load at each tick."""

    def __init__(self, args: argparse.Namespace, maker: TrafficMaker, keys: dict[str, str]):
        self.args, self.maker, self.keys = args, maker, keys
        self.next_batch = self.next_tally = 0.0

    def tick(self, elapsed: float, client: httpx.AsyncClient, url: str, tally: Tally) -> Any:
        """The requests due at `elapsed` seconds, as coroutine factories."""
        maker, keys = self.maker, self.keys
        rate = peak_rate(elapsed / self.args.duration, self.args.peak, self.args.peak / 10)
        for _ in range(max(1, int(rate / 10))):
            action = maker.online_action()
            yield lambda a=action: post_single(client, url, keys["web"], a, tally)
        if elapsed >= self.next_batch:
            batch = [maker.online_action() for _ in range(self.args.batch_size)]
            yield lambda: post_batch(client, url, keys["partner"], batch, tally)
            self.next_batch = elapsed + 2
        if elapsed >= self.next_tally:
            marathon = maker.tally(maker.rng.randint(50, 300))
            yield lambda: post_single(client, url, keys["marathon"], marathon, tally)
            self.next_tally = elapsed + 5


async def campaign_day(args: argparse.Namespace, ends: Endpoints, keys: dict[str, str]) -> Tally:
    limits = httpx.Limits(max_connections=args.in_flight)
    load, tally = BoundedLoad(args.in_flight), Tally()
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_S, limits=limits) as client:
        cases = (await client.get(f"{ends.intake}/v1/cases")).json()["cases"]
        open_ids = [c["id"] for c in cases if c.get("status") == "open"]
        day = Day(args, TrafficMaker(open_ids), keys)
        start_totals = totals = await read_totals(client, ends.counter)
        progress = Progress(TextColumn("10 Dec"), BarColumn(), TextColumn("{task.description}"))
        bar = progress.add_task("", total=args.duration)
        started = time.monotonic()
        try:
            with Live(Group(progress, totals_table(totals, tally)), refresh_per_second=4) as live:
                while (elapsed := time.monotonic() - started) < args.duration:
                    for request in day.tick(elapsed, client, ends.intake, tally):
                        load.offer(request)
                    totals = await read_totals(client, ends.counter)
                    progress.update(bar, completed=elapsed, description=_line(tally, load))
                    live.update(Group(progress, totals_table(totals, tally)))
                    await asyncio.sleep(0.1)
                await load.drain(within=RETRY.give_up_after_s)
        finally:
            await load.drain(within=0)  # Ctrl-C: stop sending at once
        await settle(client, ends, start_totals["total"], tally)
        if not args.no_cut:
            await cut_dossiers(client, ends, keys["delivery"], open_ids)
    return tally


def _line(tally: Tally, load: BoundedLoad) -> str:
    return (
        f"sent {tally.sent:,}  accepted {tally.accepted:,}  refused {tally.refused:,}  "
        f"unknown {tally.unknown:,}  not sent (busy) {load.not_sent:,}"
    )


async def settle(client: httpx.AsyncClient, ends: Endpoints, before: int, tally: Tally) -> None:
    """Wait (30 s at most) until the grand total rose by at least what this run had
    accepted; on a shared instance others' actions may raise it further."""
    deadline = time.monotonic() + 30
    while True:
        rise = (await read_totals(client, ends.counter))["total"] - before
        if rise >= tally.expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    verdict = "all counted" if rise >= tally.expected else "NOT all counted yet"
    print(
        f"\nthis run: {tally.accepted:,} requests accepted, worth {tally.expected:,} actions; "
        f"the grand total rose by {rise:,} ({verdict}). Outcomes: {tally.by_outcome}"
    )


async def cut_dossiers(
    client: httpx.AsyncClient, ends: Endpoints, key: str, case_ids: list[str]
) -> None:
    table = Table(title="Dossiers cut at the end of the day")
    for column in ("case", "target", "kind", "signatures", "status"):
        table.add_column(column)
    for case_id in case_ids:
        answer = await client.post(
            f"{ends.delivery}/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key}
        )
        if answer.status_code not in (200, 201):
            table.add_row(case_id, "—", "—", "—", f"HTTP {answer.status_code}")
            continue
        for dossier in answer.json():
            table.add_row(
                case_id,
                dossier.get("target_id") or "—",
                dossier.get("kind", ""),
                f"{dossier.get('count', 0):,}",
                dossier.get("status", ""),
            )
    Console().print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    here = Endpoints.from_env()
    parser = argparse.ArgumentParser(
        prog="make demo",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--intake", default=here.intake, help="intake URL (PLUME_INTAKE_PORT)")
    parser.add_argument("--counter", default=here.counter, help="counter URL")
    parser.add_argument("--delivery", default=here.delivery, help="delivery URL")
    parser.add_argument(
        "--database-url",
        default=local_infra().database_url,
        help="PostgreSQL where the demo's temporary keys are created (PLUME_DATABASE_URL)",
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds the day lasts")
    parser.add_argument("--peak", type=float, default=300, help="single actions/s at the peak")
    parser.add_argument("--batch-size", type=int, default=200, help="partner batch size")
    parser.add_argument("--in-flight", type=int, default=64, help="requests in flight at most")
    parser.add_argument(
        "--no-cut", action="store_true", help="do not cut dossiers at the end (shared instance)"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    ends = Endpoints(args.intake.rstrip("/"), args.counter.rstrip("/"), args.delivery.rstrip("/"))

    async def run() -> None:
        async with temporary_keys("demo", ROLES, args.database_url) as keys:
            await campaign_day(args, ends, keys)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        print("\ninterrupted: the demo's keys were revoked; accepted actions stay counted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
