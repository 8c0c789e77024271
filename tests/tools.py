"""Tests of the local tools (promtool, amtool, shellcheck, Chromium) skip where a developer
has not run `make install`; in CI (`CI` set, as `.ci/run` is run) they never skip: a tool
missing there is an install step missing, and the test fails to say so."""

from __future__ import annotations

import os

IN_CI = bool(os.environ.get("CI"))
