"""The batch handler of `plume.actions.v1`: keep what delivery needs, in the
consumer's transaction (PositionedConsumer saves the positions in the same one)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.domain.intake import sort_actions
from shared.contracts.actions import NO_COUNTRY, ActionType
from shared.db import Conn
from shared.kafka import decode
from shared.lag import ConsumerLag
from shared.logs import trace_fields
from shared.positions import BatchHandler, Record

log = logging.getLogger(__name__)


class ActionView(BaseModel):
    """The fields of `ActionEvent` (schema_version 1) that delivery reads. Validating only
    these halves the decoding time of a million actions; intake validated the rest."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    action_id: str
    case_id: str
    type: ActionType
    country: str = NO_COUNTRY
    supporter_key: str | None = None
    supporter_name: str | None = None
    share_name_with_target: bool = False
    message: str | None = None
    occurred_at: datetime
    heartbeat: bool = False
    request_id: str | None = None
    accepted_at: datetime | None = None


def action_handler(store: PgSignatureStore, lag: ConsumerLag) -> BatchHandler:
    async def handle(conn: Conn, records: Sequence[Record]) -> None:
        events: list[ActionView] = []
        for record in records:
            try:
                events.append(decode(ActionView, record.value))
            except ValidationError:
                # Intake validated it; an undecodable record is skipped, never blocks the rest.
                log.error(
                    "undecodable action skipped",
                    extra={"partition": record.partition, "offset": record.offset},
                )
        await store.add(conn, sort_actions(events))
        lag.in_flight(max((e.accepted_at for e in events if e.accepted_at), default=None))
        trace_all = log.isEnabledFor(logging.DEBUG)
        for event in events:
            if event.heartbeat:
                log.info("heartbeat seen", extra=trace_fields(event))
            elif trace_all:
                log.debug("stored", extra=trace_fields(event))

    return handle
