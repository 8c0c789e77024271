"""Read back the actions a topic holds, to compare with what intake acknowledged."""

from __future__ import annotations

import os
from typing import Any, cast

import asyncpg

from shared import sealing
from shared.contracts.actions import ActionEvent
from shared.data_keys import PgDataKeyStore
from shared.kafka import decode
from shared.settings import InfraSettings
from tests.readback import read_records


async def read_actions(bootstrap: str, topic: str) -> list[tuple[bytes, ActionEvent]]:
    """Every (key, event) of `topic` up to its current end, as it reads once opened: its
    sealed personal fields opened with the stack's data keys, where they still exist."""
    records = await read_records(bootstrap, topic)
    events = await opened([decode(ActionEvent, value) for _, value in records])
    return [(key or b"", event) for (key, _), event in zip(records, events, strict=True)]


async def opened(events: list[ActionEvent]) -> list[ActionEvent]:
    ids = {e.supporter_key for e in events if e.sealed and e.supporter_key}
    if not ids:
        return events
    master = sealing.master_key(os.environ["PLUME_SUPPORTER_MASTER_KEY"])
    conn = await asyncpg.connect(InfraSettings().database_url)
    try:
        held = await PgDataKeyStore(cast(Any, None), master).held(conn, ids)  # no pool used
    finally:
        await conn.close()
    return [_open(event, held) for event in events]


def _open(event: ActionEvent, held: dict[str, bytes]) -> ActionEvent:
    secret = held.get(event.supporter_key or "")
    if event.sealed is None or secret is None:
        return event
    fields = sealing.open_sealed(secret, event.action_id, event.sealed)
    update = {"supporter_name": fields.name, "supporter_email": fields.email}
    return event.model_copy(update=update | {"message": fields.message, "sealed": None})
