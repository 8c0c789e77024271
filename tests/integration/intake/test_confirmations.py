"""Confirmed signatures (campaign `confirm_signatures`): a signature is held and a link
emailed (to a local SMTP server); following the link as a mail scanner does (GET) changes
nothing; the supporter's POST publishes it, once; a signature never confirmed is erased."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from services.intake.domain.supporter_key import supporter_key
from services.intake.settings import IntakeSettings
from shared import erasures
from tests.conftest import REPO
from tests.integration.delivery.receivers import Mailbox, smtp_server
from tests.integration.intake.conftest import (
    OPEN_CASE,
    RunningIntake,
    campaign_for_tests,
    drop_topics,
    isolated_settings,
    prepare_topics,
    serve,
    wait_ready,
)
from tests.integration.intake.readback import read_actions
from tests.waiting import wait_until

LINK = re.compile(r"https://sign\.example\.org/v1/confirmations/[A-Za-z0-9_-]+")


def signature(email: str, name: str) -> dict[str, Any]:
    return {
        "action_id": str(uuid.uuid4()),
        "case_id": OPEN_CASE,
        "type": "signature",
        "supporter": {"name": name, "email": email, "country": "SN"},
        "consent": {"share_name_with_target": True},
    }


@asynccontextmanager
async def own_database(shared_url: str) -> AsyncIterator[str]:
    """A database of its own, dropped after: the supporters' erasure queue is per
    database, and the stack's intake (sharing the test database) would otherwise claim
    the test's erasure and report that it found nothing held. Creating one takes the
    stack's PostgreSQL superuser (`make up`'s app role may not create databases)."""
    secret = REPO / os.environ.get("PLUME_HOME", ".plume") / "secrets" / "pg-superuser"
    if secret.is_file():
        address = shared_url.rsplit("@", 1)[-1].split("/", 1)[0]
        admin_url, password = f"postgresql://postgres@{address}/postgres", secret.read_text()
    else:  # another PostgreSQL: its app role must be allowed to create databases
        admin_url, password = shared_url, None
    admin = await asyncpg.connect(admin_url, password=password and password.strip())
    name = f"plume_t_{uuid.uuid4().hex[:10]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{urlsplit(shared_url).username}"')
        try:
            yield shared_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def confirming_intake(**overrides: Any) -> AsyncIterator[tuple[RunningIntake, Mailbox]]:
    with smtp_server() as (port, mailbox):
        settings = isolated_settings(
            db_schema=f"intake_t_{uuid.uuid4().hex[:10]}",
            smtp_port=port,
            confirm_check_s=0.1,
            public_url="https://sign.example.org/",
            **overrides,
        )
        campaign = campaign_for_tests().model_copy(update={"confirm_signatures": True})
        await prepare_topics(settings, campaign)
        running = await serve(settings)
        try:
            async with httpx.AsyncClient(timeout=10) as probe:
                await wait_ready(probe, running.url)
            yield running, mailbox
        finally:
            await running.stop()
            await drop_topics(settings)
            await drop_schema(settings)


async def drop_schema(settings: IntakeSettings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
    finally:
        await conn.close()


async def rows_holding(settings: IntakeSettings, text: str) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        found: int = await conn.fetchval(
            f'SELECT count(*) FROM "{settings.db_schema}".pending_signatures t '
            "WHERE t::text LIKE $1",
            f"%{text}%",
        )
        return found
    finally:
        await conn.close()


async def published(settings: IntakeSettings, action_id: str) -> int:
    events = await read_actions(settings.kafka_bootstrap, settings.actions_topic)
    return sum(str(event.action_id) == action_id for _, event in events)


def client_for(running: RunningIntake) -> httpx.AsyncClient:
    address = f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return httpx.AsyncClient(base_url=running.url, timeout=15, headers={"X-Forwarded-For": address})


async def test_a_scanners_get_changes_nothing_the_supporters_post_counts_once() -> None:
    async with confirming_intake() as (running, mailbox), client_for(running) as client:
        settings = running.settings
        action = signature("awa.confirm@example.org", "Awa Confirm")
        answer = await client.post("/v1/actions", json=action)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"action_id": action["action_id"], "status": "pending_confirmation"}
        again = await client.post("/v1/actions", json=action)  # a retry: held once, mailed once
        assert again.json()["status"] == "pending_confirmation"
        letter = {"case_id": OPEN_CASE, "type": "letter"}  # only signatures wait
        assert (await client.post("/v1/actions", json=letter)).json()["status"] == "accepted"

        await wait_until(lambda: _count(mailbox), lambda n: n >= 1)
        [mail] = mailbox.messages
        assert mail["To"] == "awa.confirm@example.org"
        match = LINK.search(mail.get_content())
        assert match is not None, mail.get_content()
        path = match.group(0).removeprefix("https://sign.example.org")

        for _ in range(2):  # a mail scanner, then the supporter opening the page
            page = await client.get(path)
            assert page.status_code == 200
            assert '<form method="post">' in page.text
        assert await published(settings, action["action_id"]) == 0
        assert await rows_holding(settings, "awa.confirm@example.org") == 0  # mailed: forgotten

        confirmed = await client.post(path)
        assert confirmed.status_code == 200
        assert "counts" in confirmed.text
        assert await published(settings, action["action_id"]) == 1
        assert (await client.post(path)).status_code == 200  # twice: still once
        assert await published(settings, action["action_id"]) == 1
        assert await rows_holding(settings, "Awa Confirm") == 0  # the held event is gone
        assert (await client.get("/v1/confirmations/not-a-token")).status_code == 404
        assert len(mailbox.messages) == 1


async def test_a_signature_never_confirmed_is_erased_and_its_link_answers_404() -> None:
    # about 2.6 s: the expiry job (every 0.1 s) erases it soon after
    async with (
        confirming_intake(confirm_within_days=3e-5) as (running, mailbox),
        client_for(running) as client,
    ):
        settings = running.settings
        canary = f"canary-{uuid.uuid4().hex[:10]}"
        action = signature(f"{canary}@example.org", f"Name {canary}")
        assert (await client.post("/v1/actions", json=action)).status_code == 202
        await wait_until(lambda: _count(mailbox), lambda n: n >= 1)
        match = LINK.search(mailbox.messages[0].get_content())
        assert match is not None
        path = match.group(0).removeprefix("https://sign.example.org")
        await wait_until(lambda: rows_holding(settings, action["action_id"]), lambda n: n == 0)
        assert (await client.get(path)).status_code == 404
        assert (await client.post(path)).status_code == 404
        assert await published(settings, action["action_id"]) == 0


async def _count(mailbox: Mailbox) -> int:
    return len(mailbox.messages)


async def test_an_erased_supporters_held_signature_goes_with_the_erasure() -> None:
    shared_url = isolated_settings().database_url
    async with (
        own_database(shared_url) as database_url,
        confirming_intake(database_url=database_url) as (running, _),
        client_for(running) as client,
    ):
        settings, parts = running.settings, running.parts
        email = f"erase-{uuid.uuid4().hex[:10]}@example.org"
        action = signature(email, "Held Then Erased")
        assert (await client.post("/v1/actions", json=action)).status_code == 202
        assert await rows_holding(settings, action["action_id"]) == 1
        assert parts.data_keys is not None
        store = parts.data_keys.store
        lookup = supporter_key(parts.state.secret, email)
        receipt_id = await erasures.request_erasure(store.pool, store, lookup, "test")

        async def intakes_report() -> Any:
            async with store.pool.acquire() as conn:
                found = await erasures.receipt(conn, receipt_id)
            return (found or {}).get("done", {}).get("intake")

        assert await wait_until(intakes_report) == {"held_signatures_erased": 1}
        assert await rows_holding(settings, action["action_id"]) == 0
        assert await published(settings, action["action_id"]) == 0
