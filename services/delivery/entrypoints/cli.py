"""The `plume` subcommands that belong to the delivery service."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this service's subcommands to the `plume` command (none yet)."""
