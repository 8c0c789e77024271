"""The batch handler of `plume.actions.v1`: keep what delivery needs, in the
consumer's transaction (PositionedConsumer saves the positions in the same one)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.domain.intake import sort_actions
from shared.contracts.actions import NO_COUNTRY, ActionType
from shared.db import Conn
from shared.kafka import decode
from shared.lag import ConsumerLag
from shared.logs import trace_fields
from shared.positioned_consumer import Refusals
from shared.positions import Record

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


class ActionHandler:
    """Stores each batch's signatures and messages through `store`."""

    def __init__(self, store: PgSignatureStore, lag: ConsumerLag) -> None:
        self.store = store
        self.lag = lag

    @staticmethod
    def decode(record: Record) -> ActionView:
        """The action; a ValidationError makes the consumer set the record aside."""
        return decode(ActionView, record.value or b"")

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, ActionView]]) -> Refusals:
        events = [event for _, event in batch]
        await self.store.add(conn, sort_actions(events))
        self.lag.in_flight(max((e.accepted_at for e in events if e.accepted_at), default=None))
        trace_all = log.isEnabledFor(logging.DEBUG)
        for event in events:
            if event.heartbeat:
                log.info("heartbeat seen", extra=trace_fields(event))
            elif trace_all:
                log.debug("stored", extra=trace_fields(event))
        return []
