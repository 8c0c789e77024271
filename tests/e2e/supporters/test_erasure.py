"""An erased supporter is nowhere in clear text: canary names, emails and messages are
posted, one supporter is erased, and every byte where the stack keeps data is searched
(scanning.py). The other supporter stays readable through the APIs that should show them."""

from __future__ import annotations

import time
import uuid

import asyncpg
import httpx
import pytest

from shared import apikeys
from tests.conftest import Stack
from tests.documented import schema_accepts
from tests.e2e.supporters.canaries import Canary, export, new_key, report
from tests.e2e.supporters.scanning import scan_everything
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
CASE = "damisoa"
CONSENT_TEXT = "w4r-2025-sign-v1"  # deploy/campaigns/w4r-2025.json
ERASED_WITHIN_S = 60.0  # the bound on the local stack


async def act(stack: Stack, canary: Canary) -> list[str]:
    """A signature and a solidarity message, from a browser (no key)."""
    supporter = {"name": canary.name, "email": canary.email, "country": "FR"}
    consent = {"share_name_with_target": True, "contact": True, "text_id": CONSENT_TEXT}
    ids = []
    for extra in ({"type": "signature"}, {"type": "solidarity_message", "message": canary.message}):
        body = {"case_id": CASE, "supporter": supporter, "consent": consent, **extra}
        async with httpx.AsyncClient(timeout=30.0) as browser:
            answer = await browser.post(f"{stack.intake_url}/v1/actions", json=body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["action_id"])
    return ids


async def dossiers_holding(stack: Stack, canaries: list[Canary]) -> list[uuid.UUID]:
    """The rendered dossiers whose rows hold these canaries (one per kind), once all do."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT d.id FROM delivery.dossiers d WHERE d.rendered_at IS NOT NULL AND "
            "(d.cut_id IN (SELECT cut_id FROM delivery.signatures_with_cut "
            "WHERE name = ANY($1)) OR "
            "d.cut_id IN (SELECT cut_id FROM delivery.solidarity_messages "
            "WHERE message = ANY($2)))",
            [c.name for c in canaries],
            [c.message for c in canaries],
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]


async def pending_in_delivery(stack: Stack, canaries: list[Canary]) -> int:
    conn = await asyncpg.connect(stack.database_url)
    try:
        n: int = await conn.fetchval(
            "SELECT (SELECT count(*) FROM delivery.signatures WHERE name = ANY($1)) + "
            "(SELECT count(*) FROM delivery.solidarity_messages WHERE message = ANY($2))",
            [c.name for c in canaries],
            [c.message for c in canaries],
        )
        return n
    finally:
        await conn.close()


async def files_of(client: httpx.AsyncClient, stack: Stack, dossiers: list[uuid.UUID]) -> str:
    """The CSV files of these dossiers, as the delivery team downloads them (404 while one
    is being rendered again)."""
    texts = []
    for dossier_id in dossiers:
        manifest = (await client.get(f"{stack.delivery_url}/v1/dossiers/{dossier_id}")).json()
        kind = "signatures.csv" if manifest["kind"] == "signatures" else "messages.csv"
        answer = await client.get(f"{stack.delivery_url}/v1/dossiers/{dossier_id}/{kind}")
        texts.append(answer.text if answer.status_code == 200 else "(not rendered)")
    return "\n".join(texts)


async def test_an_erased_supporter_is_nowhere_in_clear_text(stack: Stack) -> None:
    erased, kept = Canary.new(), Canary.new()
    reader = await new_key(stack, apikeys.Scope.DOSSIERS_READ, apikeys.Scope.DOSSIERS_WRITE)
    eraser = await new_key(stack, apikeys.Scope.SUPPORTERS_ERASE)
    async with httpx.AsyncClient(timeout=30.0, headers={"X-API-Key": reader}) as client:
        erased_ids = await act(stack, erased)
        await act(stack, kept)
        await wait_until(lambda: pending_in_delivery(stack, [erased, kept]), lambda n: n == 4)
        await client.post(f"{stack.delivery_url}/v1/cases/{CASE}/dossiers")
        dossiers = await wait_until(
            lambda: dossiers_holding(stack, [erased, kept]), lambda d: len(d) >= 2
        )
        before = await files_of(client, stack, dossiers)
        assert erased.name in before and erased.message in before  # the scan can see them
        scans = scan_everything(stack, erased.strings(), erased_ids)
        report("before the erasure:", scans)
        assert erased.name in scans[1].found and erased.name in scans[2].found

        handed_over = await acknowledge_messages(client, stack, dossiers)
        started = time.monotonic()
        answer = await client.post(
            f"{stack.intake_url}/v1/erasures",
            json={"email": erased.email.upper()},  # the same supporter, however written
            headers={"X-API-Key": eraser},
        )
        assert answer.status_code == 202, answer.text
        receipt_url = f"{stack.intake_url}/v1/erasures/{answer.json()['receipt_id']}"

        async def receipt() -> dict[str, object]:
            got = await client.get(receipt_url, headers={"X-API-Key": eraser})
            body: dict[str, object] = got.json()
            return body

        done = await wait_until(receipt, lambda r: bool(r["completed_at"]), ERASED_WITHIN_S)
        after = await wait_until(
            lambda: files_of(client, stack, dossiers),
            lambda text: "(not rendered)" not in text,
            ERASED_WITHIN_S,
        )
        took = time.monotonic() - started
        print(f"\nerasure complete and dossiers re-rendered in {took:.2f} s; receipt: {done}")
        assert erased.name not in after and erased.message not in after
        assert kept.name in after and kept.message in after  # the other one still delivered
        delivery_part = done["done"]
        assert isinstance(delivery_part, dict)
        transmitted = delivery_part["delivery"]["dossiers_transmitted"]
        assert [d["dossier_id"] for d in transmitted] == [str(handed_over)]
        assert transmitted[0]["when"] and transmitted[0]["to"]["target_id"]
        assert "@" not in str(done)  # the receipt never holds the email
        assert schema_accepts("ErasureReceipt", done)  # as /openapi.json describes it

    scans = scan_everything(stack, erased.strings(), erased_ids)
    report("after the erasure:", scans)
    clear = {
        place.place: found
        for place in scans
        if (found := {c: n for c, n in place.found.items() if c in erased.strings()})
    }
    assert not clear, f"erased canaries still in clear text: {clear}"
    assert erased_ids[0] in scans[0].found  # the sealed action itself is still in Kafka
    assert took < ERASED_WITHIN_S

    held = export(kept.email)
    actions = held["actions"]
    assert isinstance(actions, list)
    assert {a["supporter_email"] for a in actions} == {kept.email}
    assert kept.message in {a["message"] for a in actions}
    assert {a["consent_text_id"] for a in actions} == {CONSENT_TEXT}  # proof of consent
    use = held["data_key_use"]  # they consented to contact: recorded, it keeps their key
    assert isinstance(use, dict) and use["contact_consented_at"] and use["last_used_at"]
    delivery = held["delivery"]
    assert isinstance(delivery, dict)
    (kept_signature,) = delivery["signatures_for_dossiers"]
    assert kept_signature["consent_text_id"] == CONSENT_TEXT
    erased_held = export(erased.email)
    assert erased_held["actions"] == [] and str(erased_held["data_key"]).startswith("none")
    await signs_again_and_counts_again(stack, erased)


async def signs_again_and_counts_again(stack: Stack, supporter: Canary) -> None:
    """Erased, the supporter is a stranger: signing again counts again (a new data key)."""
    async with httpx.AsyncClient(timeout=30.0) as client:

        async def total() -> int:
            answer = await client.get(f"{stack.counter_url}/v1/cases/{CASE}/totals")
            by_type: dict[str, int] = answer.json()["by_type"]
            return by_type.get("signature", 0)

        before = await total()
        body = {
            "case_id": CASE,
            "type": "signature",
            "supporter": {"name": "Signs Again", "email": supporter.email, "country": "FR"},
        }
        answer = await client.post(f"{stack.intake_url}/v1/actions", json=body)
        assert answer.status_code == 202, answer.text
        await wait_until(total, lambda now: now >= before + 1)


async def acknowledge_messages(
    client: httpx.AsyncClient, stack: Stack, dossiers: list[uuid.UUID]
) -> uuid.UUID:
    """Hand over the dossier of messages: transmitted before the erasure, it is listed in
    the receipt."""
    for dossier_id in dossiers:
        manifest = (await client.get(f"{stack.delivery_url}/v1/dossiers/{dossier_id}")).json()
        if manifest["kind"] != "signatures":
            answer = await client.post(
                f"{stack.delivery_url}/v1/dossiers/{dossier_id}/acknowledge",
                json={"by": "erasure test", "note": "handed over before the erasure"},
            )
            assert answer.status_code == 200, answer.text
            return dossier_id
    raise AssertionError("no dossier of messages")
