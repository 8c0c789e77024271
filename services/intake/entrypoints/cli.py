"""The `plume` subcommands that belong to the intake service."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.intake.entrypoints import asyncapi
from shared.settings import InfraSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this service's subcommands to the `plume` command."""
    command = sub.add_parser("asyncapi", help="write the AsyncAPI 3.0 document of the topics")
    command.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    command.set_defaults(handler=_asyncapi)


def _asyncapi(args: argparse.Namespace, _: InfraSettings) -> int:
    text = json.dumps(asyncapi.document(), indent=2, sort_keys=True) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
