"""The batch handler PositionedConsumer runs inside the transaction that also saves the
positions: decode (a record that cannot be is set aside by the consumer), count, and
report what was committed."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.adapters.pg_totals import PostgresMilestones, PostgresTotals
from services.counter.domain.model import LedgerEntry
from services.counter.service import CampaignOf, Outcome, count_actions, countable
from shared.action_ids import CONFLICT
from shared.contracts.actions import ActionEvent
from shared.db import Conn
from shared.kafka import decode
from shared.positioned_consumer import Refusals
from shared.positions import Record


@dataclass
class BatchReport:
    """What the last batch did; read after its transaction committed."""

    outcome: Outcome = field(default_factory=Outcome)
    # when intake accepted what this batch made readable: new counts and heartbeats
    # (a replayed action was readable long ago and says nothing about freshness)
    fresh: list[datetime] = field(default_factory=list)
    newest: datetime | None = None  # newest action of the batch, counted or not
    heartbeats: int = 0
    conflicts: int = 0  # records refused: their action_id belongs to a different action
    traced: list[ActionEvent] = field(default_factory=list)  # heartbeats; all at DEBUG


class Decoded(NamedTuple):
    event: ActionEvent
    entry: LedgerEntry | None  # what the ledger would keep; None for a heartbeat


def decode_action(record: Record) -> Decoded:
    """The action and its ledger entry; a ValueError (pydantic's ValidationError is one)
    makes the consumer set the record aside."""
    if record.value is None:
        raise ValueError("empty value")
    event = decode(ActionEvent, record.value)
    return Decoded(event, countable(event))


def tracing_every_action() -> bool:
    return logging.getLogger(__name__).isEnabledFor(logging.DEBUG)


def counting_lock_key(schema: str) -> int:
    """Advisory lock: batches hold it shared, recount and invalidate exclusively."""
    return zlib.crc32(f"{schema}.counting".encode())


class CountingHandler:
    def __init__(self, schema: str, campaign_of: CampaignOf):
        self.schema = schema
        self.campaign_of = campaign_of
        self.last = BatchReport()

    decode = staticmethod(decode_action)

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, Decoded]]) -> Refusals:
        events = [d.event for _, d in batch]
        await conn.execute(
            "SELECT pg_advisory_xact_lock_shared($1)", counting_lock_key(self.schema)
        )
        outcome = await count_actions(
            PostgresLedger(conn, self.schema),
            PostgresTotals(conn, self.schema),
            PostgresMilestones(conn, self.schema),
            [d.entry for _, d in batch if d.entry],
            self.campaign_of,
        )
        heartbeats = [e.accepted_at for e in events if e.heartbeat]
        self.last = BatchReport(
            outcome=outcome,
            fresh=[e.accepted_at for e in outcome.counted] + heartbeats,
            newest=max((e.accepted_at for e in events), default=None),
            heartbeats=len(heartbeats),
            conflicts=len(outcome.conflicting),
            traced=events if tracing_every_action() else [e for e in events if e.heartbeat],
        )
        if not outcome.conflicting:
            return []
        counted = [record for record, d in batch if d.entry]  # as the entries were given
        return [(counted[i], CONFLICT) for i in outcome.conflicting]
