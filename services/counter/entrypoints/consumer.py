"""The batch handler PositionedConsumer runs inside the transaction that also saves the
positions: decode (a record that cannot be is set aside by the consumer), count (the use
case `count_batch`), and refuse the records whose action id another action owns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

from services.counter.domain.model import LedgerEntry
from services.counter.domain.ports import CountingStore
from services.counter.entrypoints.action_decoding import CountedAction, decode_event
from services.counter.service import BatchReport, CampaignOf, count_batch, countable
from shared.action_ids import CONFLICT
from shared.db import Conn
from shared.positioned_consumer import Refusals
from shared.positions import Record

StoreOn = Callable[[Conn], CountingStore]  # the ports on the batch's connection


class Decoded(NamedTuple):
    event: CountedAction
    entry: LedgerEntry | None  # what the ledger would keep; None for a heartbeat


def decode_action(record: Record) -> Decoded:
    """The action and its ledger entry; a ValueError (pydantic's ValidationError is one)
    makes the consumer set the record aside."""
    if record.value is None:
        raise ValueError("empty value")
    event = decode_event(record.value)
    return Decoded(event, countable(event))


def tracing_every_action() -> bool:
    return logging.getLogger(__name__).isEnabledFor(logging.DEBUG)


class CountingHandler:
    def __init__(self, store_on: StoreOn, campaign_of: CampaignOf):
        self.store_on = store_on
        self.campaign_of = campaign_of
        self.last = BatchReport()

    decode = staticmethod(decode_action)

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, Decoded]]) -> Refusals:
        self.last = report = await count_batch(
            self.store_on(conn),
            [d.event for _, d in batch],
            [d.entry for _, d in batch if d.entry],
            self.campaign_of,
            tracing_every_action(),
        )
        if not report.outcome.conflicting:
            return []
        counted = [record for record, d in batch if d.entry]  # as the entries were given
        return [(counted[i], CONFLICT) for i in report.outcome.conflicting]
