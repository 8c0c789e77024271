"""The `plume counter …` subcommands: recount totals from the ledger, invalidate actions."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

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
    invalidate.set_defaults(handler=_invalidate)


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

    criteria = Invalidation(args.source, args.case, args.start, args.end)
    if criteria.is_empty():
        print("give at least one of --source, --case, --from, --to", file=sys.stderr)
        return 2
    outcome = asyncio.run(run_invalidate(CounterSettings(), criteria))
    print(f"invalidated {len(outcome.counted)} actions")
    for case, total in sorted(outcome.totals.items()):
        retracted = outcome.retracted.get(case, [])
        note = f", milestones withdrawn: {retracted}" if retracted else ""
        print(f"{case}: total now {total}{note}")
    return 0
