"""The `plume counter …` subcommands: recount totals from the ledger, invalidate actions,
list the waves abuse detection flagged."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timedelta

from services.counter.domain.ports import Invalidation
from services.counter.settings import CounterSettings
from shared.settings import InfraSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `plume counter recount` and `plume counter invalidate`."""
    counter = sub.add_parser("counter", help="counter corrections")
    actions = counter.add_subparsers(dest="action", required=True)
    recount = actions.add_parser(
        "recount", help="recompute totals from the ledger, report drift and repair it"
    )
    recount.add_argument("case", nargs="?", help="one case id (default: every case)")
    recount.add_argument("--dry-run", action="store_true", help="only report (exit 1 on drift)")
    recount.set_defaults(handler=_recount)

    invalidate = actions.add_parser(
        "invalidate", help="stop counting the actions that match (all criteria must match)"
    )
    invalidate.add_argument("--source", help="API key name the actions came with")
    invalidate.add_argument("--case", help="case id")
    invalidate.add_argument(
        "--from", dest="start", type=_moment, help="accepted at or after (ISO 8601, with zone)"
    )
    invalidate.add_argument(
        "--to", dest="end", type=_moment, help="accepted before (ISO 8601, with zone)"
    )
    invalidate.add_argument("--network", help="network hash (from `plume counter anomalies`)")
    invalidate.add_argument("--domain", help="email domain hash (from `plume counter anomalies`)")
    invalidate.add_argument(
        "--dry-run", action="store_true", help="say what would change, change nothing"
    )
    invalidate.set_defaults(handler=_invalidate)

    anomalies = actions.add_parser(
        "anomalies", help="waves flagged by abuse detection, not yet resolved"
    )
    anomalies.add_argument("--json", action="store_true", help="one JSON object per line")
    anomalies.set_defaults(handler=_anomalies)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +01:00)")
    return moment


def _recount(args: argparse.Namespace, _: InfraSettings) -> int:
    from services.counter.entrypoints.corrections import describe_drift, run_recount

    drift, outcome = asyncio.run(run_recount(CounterSettings(), args.case, not args.dry_run))
    lines = describe_drift(drift)
    for line in lines:
        print(line)
    if not lines:
        print("no drift: totals match the ledger")
        return 0
    if args.dry_run:
        print("dry run: nothing changed", file=sys.stderr)
        return 1
    for case, total in sorted(outcome.totals.items()):
        print(f"{case}: repaired, total now {total}")
    return 0


def _invalidate(args: argparse.Namespace, _: InfraSettings) -> int:
    from services.counter.entrypoints.corrections import run_invalidate

    criteria = Invalidation(args.source, args.case, args.start, args.end, args.network, args.domain)
    if criteria.is_empty():
        print(
            "give at least one of --source, --case, --from, --to, --network, --domain",
            file=sys.stderr,
        )
        return 2
    outcome = asyncio.run(run_invalidate(CounterSettings(), criteria, args.dry_run))
    would = "would be " if args.dry_run else ""
    verb = "would invalidate" if args.dry_run else "invalidated"  # the wording scripts read
    print(f"{verb} {len(outcome.counted)} actions")
    for case, total in sorted(outcome.totals.items()):
        retracted = outcome.retracted.get(case, [])
        note = f", milestones {would}withdrawn: {retracted}" if retracted else ""
        print(f"{case}: total {'would be' if args.dry_run else 'now'} {total}{note}")
    if args.dry_run:
        print("dry run: nothing changed", file=sys.stderr)
    return 0


def _anomalies(args: argparse.Namespace, _: InfraSettings) -> int:
    from services.counter.entrypoints.corrections import run_anomalies

    settings = CounterSettings()
    flags = asyncio.run(run_anomalies(settings))
    for flag in flags:
        if args.json:
            print(json.dumps(flag, default=str))
            continue
        since = flag["flagged_at"] - timedelta(seconds=settings.anomaly_window_s)
        print(
            f"{flag['case_id']}  {flag['kind']} {flag['key']}: {flag['window_actions']} actions "
            f"in the last window (usually {flag['usual_actions']:g}, peak "
            f"{flag['peak_actions']}), flagged at {flag['flagged_at']:%Y-%m-%dT%H:%M:%SZ}"
        )
        if flag["kind"] in ("network", "domain"):
            print(
                f"  check: plume counter invalidate --{flag['kind']} {flag['key']} "
                f"--case {flag['case_id']} --from {since:%Y-%m-%dT%H:%M:%SZ} --dry-run"
            )
    if not flags and not args.json:
        print("no anomaly flagged")
    return 0
