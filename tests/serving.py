"""The command tests and benchmarks start a service with: `plume serve <service>` run by
this interpreter from this checkout's root (pass cwd=REPO), rather than through the `plume`
entry point, whose editable install imports whichever checkout it was installed from. A
benchmark run from another worktree then measures that worktree's code."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def serve_command(service: str) -> list[str]:
    return [sys.executable, "-c", f"from services.cli import main; main(['serve', '{service}'])"]
