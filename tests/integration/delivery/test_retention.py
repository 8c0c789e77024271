"""Retention of dossier files: deleted after acknowledgement (here at once), the names of
a cut blanked once no target's dossier needs them; manifests and counts stay."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, new_key, publish, serving, signature, stored
from tests.waiting import wait_until

TARGETS = [
    {"id": f"t{i}", "name": f"Minister {i}", "country": "TN", "language": "fr"} for i in (1, 2)
]


def files_holding(folder: Path, canary: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and canary in p.read_bytes()]


async def names_in_database(settings: DeliverySettings, canary: str) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        found: int = await conn.fetchval(
            f'SELECT count(*) FROM "{settings.db_schema}".signatures WHERE name LIKE $1',
            f"%{canary}%",
        )
        return found
    finally:
        await conn.close()


async def manifest(client: httpx.AsyncClient, key: str, dossier_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        await client.get(f"/v1/dossiers/{dossier_id}", headers={"X-API-Key": key})
    ).json()
    return found


async def acknowledge_and_wait_deleted(
    client: httpx.AsyncClient, key: str, dossier_id: str
) -> dict[str, Any]:
    ack = await client.post(
        f"/v1/dossiers/{dossier_id}/acknowledge", headers={"X-API-Key": key}, json={"by": "team"}
    )
    assert ack.status_code == 200, ack.text
    return await wait_until(
        lambda: manifest(client, key, dossier_id), lambda m: m["files_deleted_at"], within=30
    )


async def test_files_go_after_acknowledgement_and_names_once_every_target_has_its_dossier(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(file_retention_days=0, retention_check_s=0.1, render_pdf=False)
    case_id = "case-" + settings.db_schema[-10:]
    canary = f"Canary{uuid.uuid4().hex[:12]}"
    names = [f"{canary} {i}" for i in range(5)]
    await publish(
        settings,
        [case(case_id, TARGETS)],
        [signature(case_id, f"r{i}", n, "SN") for i, n in enumerate(names)],
    )
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    folder = settings.dossier_dir
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == len(names))
        cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        first, second = sorted(cut.json(), key=lambda d: d["target_id"])
        for dossier_id in (first["id"], second["id"]):
            await wait_until(
                functools.partial(manifest, client, key, dossier_id), lambda m: m["sha256"]
            )
        assert len(files_holding(folder, canary.encode())) == 2

        gone = await acknowledge_and_wait_deleted(client, key, first["id"])
        assert not (folder / first["id"]).exists()
        assert (gone["count"], gone["by_country"], gone["status"]) == (5, {"SN": 5}, "acknowledged")
        refused = await client.get(
            f"/v1/dossiers/{first['id']}/signatures.csv", headers={"X-API-Key": key}
        )
        assert refused.status_code == 410
        assert refused.headers["content-type"] == "application/problem+json"
        # the second target's dossier still needs the names: kept, file and rows
        assert len(files_holding(folder, canary.encode())) == 1
        assert await names_in_database(settings, canary) == 5

        await acknowledge_and_wait_deleted(client, key, second["id"])
        assert files_holding(folder, canary.encode()) == []
        assert await names_in_database(settings, canary) == 0
        assert await stored(settings, "signatures") == 5  # still one per supporter: no recount
