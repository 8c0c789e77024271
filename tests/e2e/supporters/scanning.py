"""Looking where the data is: every byte of the stack's Kafka log segments, a pg_dump of
its database, its dossier folder and its log files, searched for canary strings."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO, Stack

PG_DUMP = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))


def plume_home() -> Path:
    home = Path(os.environ.get("PLUME_HOME", ".plume"))
    return home if home.is_absolute() else REPO / home


@dataclass
class Scan:
    place: str
    sources: int = 0
    bytes_scanned: int = 0
    found: dict[str, int] = field(default_factory=dict)  # canary -> sources holding it
    # not to be gone (action ids, a canary kept): found, they show the data was looked at
    controls: frozenset[str] = frozenset()

    def read(self, data: bytes, canaries: Iterable[str]) -> None:
        self.sources += 1
        self.bytes_scanned += len(data)
        for canary in canaries:
            if canary.encode() in data:
                self.found[canary] = self.found.get(canary, 0) + 1

    def personal(self) -> dict[str, int]:
        return {c: n for c, n in self.found.items() if c not in self.controls}

    def line(self) -> str:
        controls = sum(n for c, n in self.found.items() if c in self.controls)
        return (
            f"{self.place:<24} {self.sources:>5} files {self.bytes_scanned:>12,} bytes  "
            f"canaries found: {sum(self.personal().values())}  (controls found: {controls})"
        )


def _files(folder: Path, suffixes: tuple[str, ...] | None = None) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (suffixes is None or path.name.endswith(suffixes)):
            yield path


def _read_files(scan: Scan, paths: Iterable[Path], canaries: list[str]) -> Scan:
    for path in paths:
        try:
            scan.read(path.read_bytes(), canaries)
        except FileNotFoundError:  # a segment rolled or a file re-rendered meanwhile
            continue
    return scan


def pg_dump(stack: Stack) -> bytes:
    assert PG_DUMP, "PostgreSQL's pg_dump (Debian package) is not installed"
    done = subprocess.run(
        [str(PG_DUMP[-1]), "--dbname", stack.database_url, "--no-owner"],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def scan_everything(stack: Stack, canaries: list[str], controls: list[str]) -> list[Scan]:
    """Every place, searched for `canaries` (personal) and `controls` (the actions' ids,
    in clear by design, or a canary that must stay: found, they show that the place holding
    the actions was read)."""
    home, every = plume_home(), canaries + controls
    scans = [Scan(place, controls=frozenset(controls)) for place in PLACES]
    # Segments only: the index files beside them are mostly preallocated zeros.
    _read_files(scans[0], _files(home / "kafka" / "data", (".log",)), every)
    scans[1].read(pg_dump(stack), every)
    _read_files(scans[2], _files(home / "dossiers"), every)
    logs = [p for p in _files(home, (".log", ".out")) if "kafka/data" not in str(p)]
    _read_files(scans[3], logs, every)
    return scans


PLACES = ("kafka log segments", "pg_dump of the database", "dossier folder", "log files")
