"""Exactly once per target across SIGKILL: of `plume serve delivery` in the middle of a
cut (its transaction seen holding the case's cutting lock in PostgreSQL), and in the
middle of a webhook send."""

from __future__ import annotations

import asyncio
import collections
import csv
import io
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from tests.e2e.delivery.process import Probe, ServiceProcess
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, new_key, publish, signature
from tests.integration.delivery.receivers import smtp_server, webhook_receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
PART = 10_000  # signatures written at a time: a cut's size (8,000) and more
ATTEMPTS = 4  # parts written, at most, to see one cut in flight
TARGETS = [
    {"id": f"t{i}", "name": f"Authority {i}", "country": "TN", "language": "fr"} for i in (1, 2)
]


async def rows_by_target(
    settings: DeliverySettings, conn: asyncpg.Connection
) -> dict[str, list[str]]:
    """Every name in every rendered CSV, per target, read from the files on disk."""
    s = f'"{settings.db_schema}"'
    names: dict[str, list[str]] = collections.defaultdict(list)
    for d in await conn.fetch(f"SELECT id, target_id FROM {s}.dossiers WHERE files IS NOT NULL"):
        path = settings.dossier_dir / str(d["id"]) / "signatures.csv"
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[1:]
        names[d["target_id"]] += [r[0] for r in rows]
    return names


async def dossier_id(settings: DeliverySettings) -> str:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return str(await conn.fetchval(f'SELECT id FROM "{settings.db_schema}".dossiers'))
    finally:
        await conn.close()


async def kill_during_a_cut(
    service: ServiceProcess, probe: Probe, case_id: str, write_more: Callable[[], Awaitable[None]]
) -> None:
    """Kill the service while a cut of the case is in flight. A cut is seen by polling,
    and one that finds everything stored takes a few milliseconds: a poll can miss it.
    It seals everything pending, so no cut follows until more signatures come: more are
    written, bringing another cut, up to ATTEMPTS times. Each part is written once the
    watch has begun: a cut of what a restart finds pending can end before a watch begun
    after it would see it, but the part's own cut comes later."""

    for _ in range(ATTEMPTS):
        in_flight = wait_until(lambda: probe.cut_in_flight(case_id), within=30, every=0.002)
        watch = asyncio.ensure_future(in_flight)
        await write_more()
        try:
            await watch
        except TimeoutError:
            continue  # the cut came and went between two polls
        service.kill()
        await wait_until(probe.no_open_transaction, within=30)
        return
    raise AssertionError(f"no cut of {case_id} seen in flight in {ATTEMPTS} parts")


async def test_sigkill_during_cuts_seals_each_signature_once_per_target(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = await make_settings(cut_size=8_000, render_pdf=False)
    case_id = "case-" + settings.db_schema[-10:]
    await publish(settings, [case(case_id, TARGETS)], [])
    service = ServiceProcess(settings, tmp_path / "delivery.log")
    conn = await asyncpg.connect(settings.database_url)
    probe = Probe(conn, settings.db_schema)
    written = 0

    async def write_part() -> None:  # more than a cut's size: brings a cut
        nonlocal written
        part = range(written, written + PART)
        signatures = [signature(case_id, f"k{i}", f"Supporter {i:05d}") for i in part]
        await publish(settings, [], signatures)
        written += PART

    try:
        for _ in range(2):  # killed in the middle of two different cuts
            await service.start()
            await kill_during_a_cut(service, probe, case_id, write_part)
        await service.start()
        await write_part()
        await wait_until(
            lambda: probe.scalar("SELECT count(*) FROM {s}.signatures"),
            lambda n: n == written,
            within=120,
        )
        key = await new_key(settings, {Scope.DOSSIERS_WRITE, Scope.DOSSIERS_READ})
        async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
            cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        assert cut.status_code in (200, 201)  # 200: the size rule had just sealed the rest
        pending = "SELECT count(*) FROM {s}.signatures_with_cut WHERE cut_id IS NULL"
        assert await probe.scalar(pending) == 0
        await wait_until(
            lambda: probe.scalar("SELECT count(*) FROM {s}.dossiers WHERE files IS NULL"),
            lambda n: n == 0,
            within=120,
        )
        by_target = await rows_by_target(settings, conn)
    finally:
        service.stop()
        await conn.close()
    expected = sorted(f"Supporter {i:05d}" for i in range(written))
    assert set(by_target) == {"t1", "t2"}
    for names in by_target.values():
        assert sorted(names) == expected  # every one, none twice


async def test_sigkill_during_a_webhook_send_delivers_the_dossier_once_per_key(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    hold = asyncio.Event()
    async with webhook_receiver(b"test-secret", hold=hold) as receiver:
        settings = await make_settings(cut_size=50, send_lease_s=2.0)
        case_id = "case-" + settings.db_schema[-10:]
        target = {**TARGETS[0], "delivery": {"channel": "webhook", "url": receiver.url}}
        actions = [signature(case_id, f"k{i}", f"Supporter {i:05d}") for i in range(50)]
        await publish(settings, [case(case_id, [target])], actions)
        service = ServiceProcess(settings, tmp_path / "delivery.log")
        conn = await asyncpg.connect(settings.database_url)
        probe = Probe(conn, settings.db_schema)
        try:
            await service.start()
            await asyncio.wait_for(receiver.arrived.wait(), timeout=60)
            service.kill()  # the request is in the receiver's hands, unanswered
            hold.set()  # the receiver then processes it: the sender never learns
            assert (
                await probe.scalar("SELECT count(*) FROM {s}.dossiers WHERE status = 'sent'") == 0
            )
            await service.start()
            await wait_until(
                lambda: probe.scalar("SELECT count(*) FROM {s}.dossiers WHERE status = 'sent'"),
                lambda n: n == 1,
                within=60,
            )
            attempts = await probe.scalar("SELECT attempts FROM {s}.dossiers")
        finally:
            service.stop()
            await conn.close()
    assert len(receiver.deliveries) == 2 and attempts == 2  # the same dossier, twice on the wire
    [(key, delivery)] = receiver.distinct().items()  # one dossier for a receiver keyed on it
    assert delivery["form"]["dossier_id"] == key
    rows = delivery["files"]["signatures.csv"].decode().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == [f"Supporter {i:05d}" for i in range(50)]


async def test_sigkill_during_an_smtp_send_resends_the_same_message_id(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    hold = threading.Event()
    with smtp_server(hold) as (port, mailbox):
        settings = await make_settings(cut_size=50, send_lease_s=2.0, smtp_port=port)
        case_id = "case-" + settings.db_schema[-10:]
        address = {"channel": "email", "address": "embassy@example.org"}
        target = {**TARGETS[0], "delivery": address}
        actions = [signature(case_id, f"k{i}", f"Supporter {i:05d}") for i in range(50)]
        await publish(settings, [case(case_id, [target])], actions)
        service = ServiceProcess(settings, tmp_path / "delivery.log")
        conn = await asyncpg.connect(settings.database_url)
        probe = Probe(conn, settings.db_schema)
        try:
            await service.start()
            await wait_until(lambda: asyncio.to_thread(mailbox.arrived.is_set), within=60)
            service.kill()  # in the middle of DATA: the server has the message, no answer
            hold.set()
            await service.start()
            await wait_until(
                lambda: probe.scalar("SELECT count(*) FROM {s}.dossiers WHERE status = 'sent'"),
                lambda n: n == 1,
                within=60,
            )
        finally:
            service.stop()
            await conn.close()
    # The message went out twice; the server dropped or kept the first (aiosmtpd drops a
    # message whose client vanished before the reply), and every copy kept has one id.
    assert mailbox.data_calls == 2
    assert {m["Message-ID"] for m in mailbox.messages} == {f"<{await dossier_id(settings)}@plume>"}
    for message in mailbox.messages:
        [attachment] = [
            p for p in message.iter_attachments() if p.get_filename() == "signatures.csv"
        ]
        rows = attachment.get_content().splitlines()[1:]
        assert sorted(r.split(",")[0] for r in rows) == [f"Supporter {i:05d}" for i in range(50)]
