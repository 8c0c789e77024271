"""The delivery service in-process against the real Kafka and PostgreSQL: signatures in,
dossiers cut, rendered, downloaded, transmitted by webhook and SMTP, events out."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from shared.contracts.catalog import Sender
from shared.contracts.dossiers import DossierEvent
from shared.kafka import decode, manual_consumer
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import (
    case,
    new_key,
    publish,
    serving,
    signature,
    stored,
)
from tests.integration.delivery.receivers import smtp_server, webhook_receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

NAMES = [
    ("Awa Diallo", "SN"),
    ("Иван Петров", "RU"),
    ("Γιώργος Παπαδόπουλος", "GR"),
    ("محمد أحمد", "EG"),
    ("王小明", "CN"),
    ("田中太郎", "JP"),
    ("김민수", "KR"),
    ('=HYPERLINK("http://x")', "FR"),
]
SECRET_NAMES = ["Secret Withheld", "Тайна Скрытая"]


def actions(case_id: str) -> list[Any]:
    named = [signature(case_id, f"k{i}", n, c) for i, (n, c) in enumerate(NAMES)]
    again = signature(case_id, "k0", "Awa Diallo (twice)", "SN")  # same supporter: kept once
    unnamed = [
        signature(case_id, f"u{i}", n, "DE" if i else "IT", consent=False)
        for i, n in enumerate(SECRET_NAMES)
    ]
    return [*named, again, *unnamed]


async def wait_rendered(client: httpx.AsyncClient, key: str, case_id: str, n: int) -> list[Any]:
    async def probe() -> list[Any]:
        response = await client.get(
            "/v1/dossiers", params={"case_id": case_id}, headers={"X-API-Key": key}
        )
        return [d for d in response.json() if "dossier.pdf" in d["sha256"]]

    return await wait_until(probe, lambda ds: len(ds) >= n, within=60)


def pdf_text(data: bytes, folder: Path) -> str:
    """The PDF's text as pdftotext reads it, no-break spaces (French typography) as spaces."""
    path = folder / "check.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def test_manual_dossier_cut_rendered_downloaded_acknowledged(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = await make_settings()
    case_id = "case-" + settings.db_schema[-10:]
    target = {
        "id": "tn-president",
        "name": "President of the Republic",
        "names": {"fr": "Président de la République"},
        "country": "TN",
        "language": "fr",
        "delivery": {"channel": "manual"},
    }
    sender = Sender(name="Amnesty International France", address=["75019 Paris"])
    await publish(settings, [case(case_id, [target])], actions(case_id), sender)
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    reader = await new_key(settings, {Scope.DOSSIERS_READ})
    async with serving(settings) as client:
        # Everything consumed before the cut, so the cover counts the unnamed ones too.
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == len(NAMES))
        await wait_until(lambda: stored(settings, "unnamed_supporters"), lambda n: n == 2)
        assert (await client.post(f"/v1/cases/{case_id}/dossiers")).status_code == 401
        refused = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": reader})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        assert cut.status_code == 201
        [dossier] = cut.json()
        assert dossier["count"] == len(NAMES) and dossier["status"] == "sealed"
        assert dossier["by_country"] == {c: 1 for _, c in NAMES}
        again = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        assert (again.status_code, again.json()) == (200, [])

        bad = await client.get(
            "/v1/dossiers", params={"status": "lost"}, headers={"X-API-Key": key}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
        unknown = await client.get(f"/v1/dossiers/{uuid.uuid4()}", headers={"X-API-Key": key})
        assert unknown.status_code == 404
        no_case = await client.post("/v1/cases/no-such-case/dossiers", headers={"X-API-Key": key})
        assert no_case.status_code == 404
        [manifest] = await wait_rendered(client, key, case_id, 1)
        headers = {"X-API-Key": reader}
        csv_bytes = (
            await client.get(f"/v1/dossiers/{dossier['id']}/signatures.csv", headers=headers)
        ).content
        pdf_bytes = (
            await client.get(f"/v1/dossiers/{dossier['id']}/dossier.pdf", headers=headers)
        ).content
        assert hashlib.sha256(csv_bytes).hexdigest() == manifest["sha256"]["signatures.csv"]
        assert hashlib.sha256(pdf_bytes).hexdigest() == manifest["sha256"]["dossier.pdf"]

        rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))
        assert rows[0] == ["name", "country", "signed_at"]
        names = sorted(r[0] for r in rows[1:])
        expected = sorted(n if not n.startswith("=") else "'" + n for n, _ in NAMES)
        assert names == expected
        text = pdf_text(pdf_bytes, tmp_path)
        assert f"{len(NAMES)} personnes de {len(NAMES)} pays" in text
        assert "2 autres personnes de 2 pays" in text
        assert "Par pays : Chine 1 · Égypte 1 · France 1" in text
        assert "Amnesty International France\n75019 Paris" in text
        assert "Président de la République\nTunisie" in text
        assert "Notre demande\nLibérez Sonia Dahmani." in text
        assert re.search(r"\n\d{1,2} \w+ 20\d\d\n", text)  # the date, in French
        for name in (
            "Awa Diallo",
            "Иван Петров",
            "Γιώργος Παπαδόπουλος",
            "王小明",
            "田中太郎",
            "김민수",
        ):
            assert name in text, name
        assert "محمد" in text and "أحمد" in text
        for secret in SECRET_NAMES:
            assert secret not in text and secret not in csv_bytes.decode()
        assert "Page 2 / 2" in text

        ack = await client.post(
            f"/v1/dossiers/{dossier['id']}/acknowledge", headers={"X-API-Key": key}
        )
        assert ack.json()["status"] == "acknowledged"
        twice = await client.post(
            f"/v1/dossiers/{dossier['id']}/acknowledge", headers={"X-API-Key": key}
        )
        assert twice.status_code == 409
        events = [e.status for e in await dossier_events(settings, 2)]
        assert events == ["sealed", "acknowledged"]
    assert await downloads(settings) == [("dossier.pdf",), ("signatures.csv",)]


async def test_a_name_no_font_draws_is_counted_logged_by_dossier_id_and_kept_in_the_csv(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = await make_settings()
    case_id = "case-" + settings.db_schema[-10:]
    target = {"id": "t", "name": "Minister", "country": "KH", "language": "en"}
    ghost = "Ghost \U0010fffd"  # a private-use character: no installed font draws it
    names = [ghost, "សុខ ដារ៉ា"]
    await publish(
        settings,
        [case(case_id, [target])],
        [signature(case_id, f"g{i}", n, "KH") for i, n in enumerate(names)],
    )
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    before = REGISTRY.get_sample_value("plume_delivery_pdf_unreadable_names_total") or 0
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == len(names))
        cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        [dossier] = cut.json()
        await wait_rendered(client, key, case_id, 1)
        csv_text = (
            await client.get(
                f"/v1/dossiers/{dossier['id']}/signatures.csv", headers={"X-API-Key": key}
            )
        ).text
    assert REGISTRY.get_sample_value("plume_delivery_pdf_unreadable_names_total") == before + 1
    [logged] = [r.getMessage() for r in caplog.records if "no installed font" in r.getMessage()]
    assert dossier["id"] in logged and "Ghost" not in logged
    assert ghost in csv_text


async def test_webhook_and_email_targets_receive_their_dossier_once_after_a_failure(
    make_settings: MakeSettings,
) -> None:
    async with webhook_receiver(b"test-secret", fail_first=1) as receiver:
        with smtp_server() as (smtp_port, mailbox):
            settings = await make_settings(smtp_port=smtp_port, cut_size=len(NAMES))
            case_id = "case-" + settings.db_schema[-10:]
            targets = [
                {
                    "id": "hook",
                    "name": "Partner",
                    "country": "TN",
                    "language": "es",
                    "delivery": {"channel": "webhook", "url": receiver.url},
                },
                {
                    "id": "mail",
                    "name": "Embassy",
                    "country": "TN",
                    "language": "en",
                    "delivery": {"channel": "email", "address": "embassy@example.org"},
                },
            ]
            await publish(settings, [case(case_id, targets)], actions(case_id))
            async with serving(settings):
                await wait_until(
                    lambda: statuses(settings), lambda s: s == ["sent", "sent"], within=60
                )
            assert receiver.bad_signatures == 0
            assert len(receiver.deliveries) == 1  # the first attempt got a 503
            [delivery] = receiver.deliveries
            rows = delivery["files"]["signatures.csv"].decode().splitlines()
            assert len(rows) == 1 + len(NAMES)
            assert "Firmas para" in pdf_text(delivery["files"]["dossier.pdf"], settings.dossier_dir)
            [message] = mailbox.messages
            attached = {p.get_filename() for p in message.iter_attachments()}
            assert attached == {"signatures.csv", "dossier.pdf"}
    events = await dossier_events(settings, 5)
    hook = [e.status for e in events if e.target_id == "hook"]
    assert hook == ["sealed", "failed", "sent"]


async def statuses(settings: DeliverySettings) -> list[str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            f'SELECT status FROM "{settings.db_schema}".dossiers ORDER BY target_id'
        )
        return [r["status"] for r in rows]
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()


async def downloads(settings: DeliverySettings) -> list[tuple[str]]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(f'SELECT file FROM "{settings.db_schema}".downloads ORDER BY file')
        return [(r["file"],) for r in rows]
    finally:
        await conn.close()


async def dossier_events(settings: DeliverySettings, at_least: int) -> list[DossierEvent]:
    consumer = manual_consumer(settings.kafka_bootstrap, None, "test-events")
    await consumer.start()
    seen: list[DossierEvent] = []
    try:
        consumer.subscribe([settings.dossiers_topic])

        async def probe() -> int:
            batches = await consumer.getmany(timeout_ms=200)
            seen.extend(decode(DossierEvent, r.value) for rs in batches.values() for r in rs)
            return len(seen)

        await wait_until(probe, lambda n: n >= at_least, within=30)
    finally:
        await consumer.stop()
    return sorted(seen, key=lambda e: e.event_id)
