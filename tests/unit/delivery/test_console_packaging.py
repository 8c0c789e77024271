"""The console's templates ship in the wheel: each matches a package-data glob of
pyproject.toml (setuptools leaves out whatever no glob names)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "services/delivery/entrypoints/console_templates"


def test_every_console_template_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["*"]
    templates = sorted(TEMPLATES.glob("*"))
    assert len(templates) >= 5
    for path in templates:
        relative = str(path.relative_to(TEMPLATES.parent))
        assert any(fnmatch.fnmatch(relative, g) for g in globs), relative
