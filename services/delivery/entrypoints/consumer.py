"""The batch handler of `plume.actions.v1`: keep what delivery needs, in the
consumer's transaction (PositionedConsumer saves the positions in the same one)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import ValidationError

from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.domain.intake import sort_actions
from shared.contracts.actions import ActionEvent
from shared.db import Conn
from shared.kafka import decode
from shared.positions import BatchHandler, Record

log = logging.getLogger(__name__)


def action_handler(store: PgSignatureStore) -> BatchHandler:
    async def handle(conn: Conn, records: Sequence[Record]) -> None:
        events = []
        for record in records:
            try:
                events.append(decode(ActionEvent, record.value))
            except ValidationError:
                # Intake validated it; an undecodable record is skipped, never blocks the rest.
                log.error(
                    "undecodable action skipped",
                    extra={"partition": record.partition, "offset": record.offset},
                )
        await store.add(conn, sort_actions(events))

    return handle
