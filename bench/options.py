"""Options `python -m bench` hands to the benchmark modules through the environment (so
that the modules keep their plain `run()`, and subprocesses see the same)."""

from __future__ import annotations

import os

SCALE_VARIABLE = "PLUME_BENCH_SCALE"


def scaled(size: int) -> int:
    """`size` times `--scale` (1 by default): smaller runs while iterating; the default
    `make bench` measures the full sizes."""
    return max(1, round(size * float(os.environ.get(SCALE_VARIABLE, "1"))))
