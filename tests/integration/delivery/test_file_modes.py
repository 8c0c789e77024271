"""Dossier files hold the names of consenting signers: only the service's user may read
them (folders 0700, files 0600), whatever the umask and however old the folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shared.apikeys import Scope
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, new_key, publish, serving, signature, stored
from tests.integration.delivery.test_dossiers import wait_rendered
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_dossier_folders_and_files_are_private(make_settings: MakeSettings) -> None:
    settings = await make_settings()
    settings.dossier_dir.mkdir(mode=0o755, parents=True)  # as an older version left it
    os.chmod(settings.dossier_dir, 0o755)
    case_id = "case-" + settings.db_schema[-10:]
    target = {"id": "t", "name": "T", "country": "TN", "language": "fr"}
    await publish(settings, [case(case_id, [target])], [signature(case_id, "k1", "Awa Diallo")])
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    previous = os.umask(0o022)  # the usual umask: files 0644, folders 0755 by default
    try:
        async with serving(settings) as client:
            await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)
            cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
            [dossier] = cut.json()
            await wait_rendered(client, key, case_id, 1)
    finally:
        os.umask(previous)
    folder = settings.dossier_dir / dossier["id"]
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["dossier.pdf", "signatures.csv"]
    assert {p: oct(mode(settings.dossier_dir / p)) for p in ("", dossier["id"])} == {
        "": "0o700",
        dossier["id"]: "0o700",
    }
    assert {name: oct(mode(folder / name)) for name in files} == {
        "dossier.pdf": "0o600",
        "signatures.csv": "0o600",
    }
