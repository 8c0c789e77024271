"""Retention reaches every copy: a canary signs (name shared with the target, no consent
to contact), its dossier is cut and acknowledged, then its retention ends: the dossier's
files go (the cut's names blanked) and the supporter's data key is destroyed. Every byte
where the stack keeps data is then searched (scanning.py): the canary is nowhere in clear
text and its sealed action in Kafka cannot be opened any more. A control canary, signed
later and not due, stays readable through the export.

The test ages its own data (the dossier's acknowledgement and the key's last use moved to
2000) and runs delivery's two retention jobs once against the stack with a retention ending
just after: only its own data is due, nothing waits for days, and the stack's settings and
other rows are left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition

from services.delivery import service
from services.delivery.adapters.key_retention import PgKeyExpiry
from services.delivery.adapters.opening import SealedFields
from services.delivery.adapters.retention import PgFileRetention
from services.delivery.domain.key_retention import KeyRetention
from services.delivery.settings import DeliverySettings
from shared import apikeys, data_keys
from shared.db import create_pool
from tests.conftest import Stack
from tests.e2e.supporters.canaries import (
    Canary,
    actions_on_the_wire,
    actions_topic_ends,
    export,
    new_key,
    report,
)
from tests.e2e.supporters.scanning import plume_home, scan_everything
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
CASE = "damisoa"
CONSENT_TEXT = "w4r-2025-sign-v1"  # deploy/campaigns/w4r-2025.json
AGED = datetime(2000, 1, 1, tzinfo=UTC)  # the canary's dossier acknowledged, key last used
RETENTION_ENDS = datetime(2000, 1, 2, tzinfo=UTC)  # what is older than this is due
STORED = "SELECT 1 FROM delivery.signatures WHERE name = $1"


async def sign(stack: Stack, canary: Canary) -> str:
    """A named signature, shared with the target, without consent to contact."""
    body = {
        "case_id": CASE,
        "type": "signature",
        "supporter": {"name": canary.name, "email": canary.email, "country": "FR"},
        "consent": {"share_name_with_target": True, "contact": False, "text_id": CONSENT_TEXT},
    }
    async with httpx.AsyncClient(timeout=30.0) as browser:
        answer = await browser.post(f"{stack.intake_url}/v1/actions", json=body)
    assert answer.status_code == 202, answer.text
    action_id: str = answer.json()["action_id"]
    return action_id


async def fetch(stack: Stack, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


async def cut_of(stack: Stack, canary: Canary) -> int | None:
    """The cut holding the canary's signature, once delivery stored and cut it."""
    rows = await fetch(
        stack, "SELECT cut_id FROM delivery.signatures_with_cut WHERE name = $1", canary.name
    )
    return rows[0]["cut_id"] if rows else None


async def rendered_dossiers(stack: Stack, cut_id: int) -> list[str]:
    """The dossiers of that cut (one per target), once every one is rendered."""
    rows = await fetch(
        stack, "SELECT id, rendered_at FROM delivery.dossiers WHERE cut_id = $1", cut_id
    )
    return [str(r["id"]) for r in rows] if all(r["rendered_at"] for r in rows) else []


async def hand_over(client: httpx.AsyncClient, stack: Stack, canary: Canary) -> list[str]:
    """Cut the case, acknowledge every dossier of the canary's cut; their ids."""
    answer = await client.post(f"{stack.delivery_url}/v1/cases/{CASE}/dossiers")
    assert answer.status_code in (200, 201), answer.text
    cut_id = await wait_until(lambda: cut_of(stack, canary), lambda c: c is not None)
    assert cut_id is not None
    dossiers = await wait_until(lambda: rendered_dossiers(stack, cut_id), bool)
    for dossier_id in dossiers:
        ack = await client.post(
            f"{stack.delivery_url}/v1/dossiers/{dossier_id}/acknowledge",
            json={"by": "retention test"},
        )
        assert ack.status_code == 200, ack.text
    return dossiers


async def age(stack: Stack, dossiers: list[str], key_id: str) -> None:
    """The dossiers acknowledged, the key last used, in 2000: their retention is over."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(
            "UPDATE delivery.dossiers SET acknowledged_at = $2 WHERE id::text = ANY($1)",
            dossiers,
            AGED,
        )
        await conn.execute(
            "UPDATE supporters.data_keys SET last_used_at = $2 WHERE key_id = $1", key_id, AGED
        )
    finally:
        await conn.close()


async def run_retention_once(stack: Stack) -> tuple[int, int]:
    """Delivery's daily jobs, once, as its worker runs them (service.expire_files and
    service.expire_data_keys), with retentions that end on RETENTION_ENDS: the number of
    dossiers whose files went and of keys destroyed."""
    settings = DeliverySettings()
    now = datetime.now(UTC)
    pool = await create_pool(stack.database_url, max_size=2)
    try:
        files = PgFileRetention(pool, settings.db_schema, plume_home() / "dossiers")
        deleted = await service.expire_files(files, now - RETENTION_ENDS, now)
        keys = data_keys.PgDataKeyStore(pool, settings.master_key())
        expiry = PgKeyExpiry(pool, settings.db_schema, keys)
        destroyed = await service.expire_data_keys(expiry, KeyRetention(now - RETENTION_ENDS), now)
        return deleted, destroyed
    finally:
        await pool.close()


async def opened_names(stack: Stack, since: dict[TopicPartition, int], ids: set[str]) -> set[Any]:
    """The names in these actions as Kafka holds them, opened with the keys the stack holds
    (None: no key to open it)."""
    wire = await actions_on_the_wire(stack, since, ids)
    assert {str(a.action_id) for a in wire} == ids
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        keys = data_keys.PgDataKeyStore(pool, DeliverySettings().master_key())
        async with pool.acquire() as conn, conn.transaction():
            opened = await SealedFields(keys).open(conn, wire)
    finally:
        await pool.close()
    return {a.supporter_name for a in opened}


async def test_a_supporter_past_retention_is_nowhere_in_clear_text(stack: Stack) -> None:
    due, control = Canary.new(), Canary.new()
    reader = await new_key(stack, apikeys.Scope.DOSSIERS_READ, apikeys.Scope.DOSSIERS_WRITE)
    since = await actions_topic_ends(stack)
    due_id = await sign(stack, due)
    async with httpx.AsyncClient(timeout=30.0, headers={"X-API-Key": reader}) as client:
        await wait_until(lambda: fetch(stack, STORED, due.name), bool)
        dossiers = await hand_over(client, stack, due)
        control_id = await sign(stack, control)  # after the cut: pending, and recent
        await wait_until(lambda: fetch(stack, STORED, control.name), bool)
        kept = [due_id, control_id, control.name]  # in clear by design, or not due
        scans = scan_everything(stack, [due.name, due.email], kept)
        report("before the retention ends:", scans)
        assert due.name in scans[1].found and due.name in scans[2].found  # the scan sees it
        assert await opened_names(stack, since, {due_id}) == {due.name}

        (sealed_with,) = await actions_on_the_wire(stack, since, {due_id})
        assert sealed_with.supporter_key
        await age(stack, dossiers, sealed_with.supporter_key)
        deleted, destroyed = await run_retention_once(stack)
        print(f"\nretention run once: files of {deleted} dossiers deleted, {destroyed} keys")
        for dossier_id in dossiers:
            got = await client.get(f"{stack.delivery_url}/v1/dossiers/{dossier_id}/signatures.csv")
            assert got.status_code == 410, got.text  # the files are gone

    scans = scan_everything(stack, [due.name, due.email], kept)
    report("after the retention ended:", scans)
    clear = {scan.place: found for scan in scans if (found := scan.personal())}
    assert not clear, f"canaries past retention still in clear text: {clear}"
    assert due_id in scans[0].found  # the sealed action itself is still in Kafka...
    assert await opened_names(stack, since, {due_id}) == {None}  # ...and cannot be opened
    assert control.name in scans[1].found  # the control is still held, by delivery
    assert deleted >= len(dossiers) and destroyed >= 1
    assert str(export(due.email)["data_key"]).startswith("none")
    control_still_readable(control, control_id)


def control_still_readable(control: Canary, control_id: str) -> None:
    """The control, not due, is still shown by the export: its action opened from Kafka
    and its signature waiting in delivery for a dossier."""
    held = export(control.email)
    actions = held["actions"]
    assert isinstance(actions, list)
    assert [(a["action_id"], a["supporter_name"]) for a in actions] == [(control_id, control.name)]
    delivery = held["delivery"]
    assert isinstance(delivery, dict)
    assert [s["name"] for s in delivery["signatures_for_dossiers"]] == [control.name]
