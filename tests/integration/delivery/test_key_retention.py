"""Retention of the supporters' data keys against the real PostgreSQL and a running
delivery: keys unused for their retention go, unless delivery still holds a name of theirs
(a dossier pending) or their supporter consented to contact; what a destroyed key sealed
cannot be opened any more, and a supporter who signs again gets a new key and is counted
again. The test ages its own keys (their last use moved to 2000) and runs the job with a
retention ending just after, so only its own keys are due and nothing waits for days."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
from prometheus_client import REGISTRY

from services.delivery import service
from services.delivery.adapters.key_retention import PgKeyExpiry
from services.delivery.adapters.opening import SealedFields
from services.delivery.domain.key_retention import KeyRetention
from services.delivery.settings import DeliverySettings
from services.intake.adapters.data_keys import CachedDataKeys
from services.intake.adapters.sealing_publisher import sealed
from shared import data_keys
from shared.apikeys import Scope
from shared.contracts.action_record import record_of
from shared.contracts.actions import ActionEvent
from shared.db import create_pool
from tests.integration.data_key_memory import following
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, new_key, publish, serving, signature, stored
from tests.waiting import wait_until

TARGETS = [{"id": "t1", "name": "Minister", "country": "TN", "language": "fr"}]
AGED = datetime(2000, 1, 1, tzinfo=UTC)  # the test's keys were last used then
RETENTION_ENDS = datetime(2000, 1, 2, tzinfo=UTC)  # keys unused since before this go
DESTROYED = "plume_delivery_data_keys_destroyed_total"
SUPPORTERS = ("handed_over", "unnamed", "pending", "contact", "recent")


@contextlib.asynccontextmanager
async def key_store(settings: DeliverySettings) -> AsyncIterator[data_keys.PgDataKeyStore]:
    pool = await create_pool(settings.database_url, max_size=4)
    try:
        await data_keys.prepare(pool)
        yield data_keys.PgDataKeyStore(pool, settings.master_key())
    finally:
        await pool.close()


async def age(pool: asyncpg.Pool, lookups: list[str]) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE supporters.data_keys SET last_used_at = $2 WHERE lookup = ANY($1)",
            lookups,
            AGED,
        )


async def forget(pool: asyncpg.Pool, lookups: list[str]) -> None:
    """The test's keys go with it: none is left aged for another run's job to find."""
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM supporters.data_keys WHERE lookup = ANY($1)", lookups)


async def opened_name(keys: data_keys.PgDataKeyStore, action: ActionEvent) -> str | None:
    async with keys.pool.acquire() as conn, conn.transaction():
        (view,) = await SealedFields(keys).open(conn, [action])
    return view.supporter_name


async def still_held(keys: data_keys.PgDataKeyStore, key: dict[str, data_keys.DataKey]) -> set[str]:
    """Whose key (the one made at the start) still exists."""
    async with keys.pool.acquire() as conn:
        held = await keys.held(conn, [k.key_id for k in key.values()])
    return {name for name, k in key.items() if k.key_id in held}


async def hand_over(client: httpx.AsyncClient, settings: DeliverySettings, case_id: str) -> None:
    """Cut the case, acknowledge its dossier, and wait for its files' retention (here at
    once) to blank the names it held."""
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    headers = {"X-API-Key": key}
    (dossier,) = (await client.post(f"/v1/cases/{case_id}/dossiers", headers=headers)).json()
    ack = await client.post(
        f"/v1/dossiers/{dossier['id']}/acknowledge", headers=headers, json={"by": "team"}
    )
    assert ack.status_code == 200, ack.text

    async def files_deleted() -> object:
        return (await client.get(f"/v1/dossiers/{dossier['id']}", headers=headers)).json()[
            "files_deleted_at"
        ]

    await wait_until(files_deleted, within=30)


def as_written(event: ActionEvent, key: data_keys.DataKey) -> ActionEvent:
    """The event as intake writes it, sealed with `key`."""
    return ActionEvent.model_validate_json(sealed(record_of(event), key)[1])


def actions_of(
    cases: tuple[str, str], key: dict[str, data_keys.DataKey], lookup: dict[str, str], name: str
) -> list[ActionEvent]:
    """handed_over's named signature first (its dossier will be handed over), pending's in
    a case never cut, the others without a name; contact's email sealed, with consent."""
    done, pending = cases

    def signed(who: str, case_id: str, name: str | None, **extra: object) -> ActionEvent:
        event = signature(case_id, lookup[who], name, consent=name is not None)
        return as_written(event.model_copy(update=extra), key[who])

    return [
        signed("handed_over", done, name),
        signed("pending", pending, f"{name} P"),
        signed("contact", done, None, supporter_email="contact@example.org", contact=True),
        signed("unnamed", done, None),
        signed("recent", done, None),
    ]


async def test_keys_go_at_the_end_of_their_retention_unless_still_needed(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(
        file_retention_days=0,
        retention_check_s=0.1,
        render_pdf=False,
        data_key_retention_days=36_500,  # the service's own job leaves the test's keys alone
    )
    cases = (f"d-{settings.db_schema[-10:]}", f"p-{settings.db_schema[-10:]}")
    who = {name: f"lookup-{uuid.uuid4().hex}" for name in SUPPORTERS}
    canary = f"Canary{uuid.uuid4().hex[:12]}"
    async with key_store(settings) as keys:
        try:
            made = await keys.for_supporters(who.values(), contact=[who["contact"]])
            key = {name: made[lookup] for name, lookup in who.items()}
            actions = actions_of(cases, key, who, canary)
            await publish(settings, [case(c, TARGETS) for c in cases], actions)
            async with serving(settings) as client:
                await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 2)
                await wait_until(lambda: stored(settings, "unnamed_supporters"), lambda n: n == 3)
                await hand_over(client, settings, cases[0])  # handed_over's name is blanked
                assert await opened_name(keys, actions[0]) == canary
                aged = [who[n] for n in SUPPORTERS if n != "recent"]

                again = await expire_and_sign_again(settings, keys, aged, who["handed_over"])

                assert await still_held(keys, key) == {"pending", "contact", "recent"}
                assert await opened_name(keys, actions[0]) is None  # sealed, now unreadable
                assert again.key_id != key["handed_over"].key_id
                signs_again = signature(cases[0], who["handed_over"], f"{canary} again")
                await publish(settings, [], [as_written(signs_again, again)])
                await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 3)
        finally:
            await forget(keys.pool, list(who.values()))


async def expire_and_sign_again(
    settings: DeliverySettings, keys: data_keys.PgDataKeyStore, aged: list[str], lookup: str
) -> data_keys.DataKey:
    """Age those keys, then run the job (two of them are needed by nothing) while intake
    holds `lookup`'s key in memory; the key intake then gives that supporter."""
    intake = CachedDataKeys(keys, settings.database_url, capacity=100)
    async with following(intake):
        await intake.for_supporters([lookup])  # records its use: aged after
        await age(keys.pool, aged)
        before = REGISTRY.get_sample_value(DESTROYED) or 0.0
        retention = KeyRetention(datetime.now(UTC) - RETENTION_ENDS)
        expiry = PgKeyExpiry(keys.pool, settings.db_schema, keys)

        assert await service.expire_data_keys(expiry, retention, datetime.now(UTC)) == 2

        assert REGISTRY.get_sample_value(DESTROYED) == before + 2
        await wait_until(lambda: asyncio.sleep(0, not intake.holds(lookup)), within=10)
        return (await intake.for_supporters([lookup]))[lookup]
