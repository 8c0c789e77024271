"""`make demo`: a Write for Rights day, compressed, against the local stack. Browsers post
single actions along the 10 December peak curve, a partner system posts batches, a letter
marathon posts tallies; the terminal shows progress and the live totals the counter serves;
at the end every case's dossiers are cut and listed."""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ops.endpoints import Endpoints, temporary_keys
from ops.traffic import TrafficMaker, peak_rate
from shared.apikeys import Scope

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
    failed: int = 0
    expected: int = 0  # how much the grand total must rise
    by_status: dict[int, int] = field(default_factory=dict)

    def record(self, status: int, weight: int) -> None:
        self.sent += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status == 202:
            self.accepted += 1
            self.expected += weight
        elif status >= 500:
            self.failed += 1
        else:
            self.refused += 1


async def post_single(
    client: httpx.AsyncClient, url: str, key: str, action: dict[str, Any], tally: Tally
) -> None:
    try:
        answer = await client.post(f"{url}/v1/actions", json=action, headers={"X-API-Key": key})
        tally.record(answer.status_code, action.get("count", 1))
    except httpx.HTTPError:
        tally.record(599, 0)


async def post_batch(
    client: httpx.AsyncClient, url: str, key: str, actions: list[dict[str, Any]], tally: Tally
) -> None:
    try:
        answer = await client.post(
            f"{url}/v1/actions/batch", json={"actions": actions}, headers={"X-API-Key": key}
        )
    except httpx.HTTPError:
        tally.record(599, 0)
        return
    if answer.status_code != 200:
        tally.record(answer.status_code, 0)
        return
    for result in answer.json()["results"]:
        tally.record(202 if result["status"] == "accepted" else 422, 1)


def totals_table(totals: dict[str, Any], baseline: dict[str, int]) -> Table:
    table = Table(title=f"Live totals — grand total {totals.get('total', 0):,}")
    for column in ("case", "total", "this run", "top countries", "updated"):
        table.add_column(column, justify="right" if column in ("total", "this run") else "left")
    for case in totals.get("cases", []):
        top = sorted(case["by_country"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            case["case_id"],
            f"{case['total']:,}",
            f"{case['total'] - baseline.get(case['case_id'], 0):,}",
            " ".join(f"{c}:{n}" for c, n in top),
            str(case["updated_at"] or "")[11:23],
        )
    return table


async def read_totals(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await client.get(f"{url}/v1/totals")
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def campaign_day(args: argparse.Namespace, ends: Endpoints, keys: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=64)) as client:
        cases = (await client.get(f"{ends.intake}/v1/cases")).json()["cases"]
        open_ids = [c["id"] for c in cases if c.get("status") == "open"]
        maker = TrafficMaker(open_ids)
        start_totals = await read_totals(client, ends.counter)
        baseline = {c["case_id"]: c["total"] for c in start_totals["cases"]}
        tally, pending = Tally(), set[asyncio.Task[None]]()
        progress = Progress(
            TextColumn("10 Dec"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeRemainingColumn(),
        )
        day = progress.add_task("", total=args.duration)
        started = time.monotonic()
        next_batch = next_tally = 0.0
        totals = start_totals
        with Live(Group(progress, totals_table(totals, baseline)), refresh_per_second=4) as live:
            while (elapsed := time.monotonic() - started) < args.duration:
                rate = peak_rate(elapsed / args.duration, args.peak, args.peak / 10)
                for _ in range(max(1, int(rate / 10))):
                    pending.add(
                        asyncio.create_task(
                            post_single(
                                client, ends.intake, keys["web"], maker.online_action(), tally
                            )
                        )
                    )
                if elapsed >= next_batch:
                    batch = [maker.online_action() for _ in range(args.batch_size)]
                    pending.add(
                        asyncio.create_task(
                            post_batch(client, ends.intake, keys["partner"], batch, tally)
                        )
                    )
                    next_batch = elapsed + 2
                if elapsed >= next_tally:
                    pending.add(
                        asyncio.create_task(
                            post_single(
                                client,
                                ends.intake,
                                keys["marathon"],
                                maker.tally(maker.rng.randint(50, 300)),
                                tally,
                            )
                        )
                    )
                    next_tally = elapsed + 5
                pending = {t for t in pending if not t.done()}
                totals = await read_totals(client, ends.counter)
                progress.update(
                    day,
                    completed=elapsed,
                    description=(
                        f"{rate:,.0f}/s  sent {tally.sent:,}  accepted {tally.accepted:,}  "
                        f"refused {tally.refused:,}  failed {tally.failed:,}"
                    ),
                )
                live.update(Group(progress, totals_table(totals, baseline)))
                await asyncio.sleep(0.1)
            await asyncio.gather(*pending)
        await settle(client, ends, start_totals["total"], tally)
        await cut_dossiers(client, ends, keys["delivery"], open_ids)


async def settle(client: httpx.AsyncClient, ends: Endpoints, before: int, tally: Tally) -> None:
    deadline = time.monotonic() + 30
    while True:
        rise = (await read_totals(client, ends.counter))["total"] - before
        if rise >= tally.expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    verdict = "exactly" if rise == tally.expected else "NOT exactly"
    print(
        f"\naccepted {tally.accepted:,} requests worth {tally.expected:,} actions; "
        f"the grand total rose by {rise:,}: counted {verdict}. Statuses: {tally.by_status}"
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=60, help="seconds the day lasts")
    parser.add_argument("--peak", type=float, default=300, help="single actions/s at the peak")
    parser.add_argument("--batch-size", type=int, default=200, help="partner batch size")
    args = parser.parse_args()

    async def run() -> None:
        async with temporary_keys("demo", ROLES) as keys:
            await campaign_day(args, Endpoints.from_env(), keys)

    asyncio.run(run())


if __name__ == "__main__":
    main()
