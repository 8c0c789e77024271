"""The batch handler PositionedConsumer runs inside the transaction that also saves the
positions: decode, dead-letter the poison, count, and report what was committed."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from pydantic import ValidationError

from services.counter.adapters.dead_letters import KafkaDeadLetters
from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.adapters.pg_totals import PostgresMilestones, PostgresTotals
from services.counter.domain.model import LedgerEntry
from services.counter.service import CampaignOf, Outcome, count_actions, countable
from shared.contracts.actions import ActionEvent
from shared.db import Conn
from shared.kafka import decode
from shared.positions import Record


@dataclass
class BatchReport:
    """What the last batch did; read after its transaction committed."""

    outcome: Outcome = field(default_factory=Outcome)
    # when intake accepted what this batch made readable: new counts and heartbeats
    # (a replayed action was readable long ago and says nothing about freshness)
    fresh: list[datetime] = field(default_factory=list)
    newest: datetime | None = None  # newest action of the batch, counted or not
    dead_letters: int = 0
    heartbeats: int = 0
    traced: list[ActionEvent] = field(default_factory=list)  # heartbeats; all at DEBUG


class Decoded(NamedTuple):
    event: ActionEvent
    entry: LedgerEntry | None  # what the ledger would keep; None for a heartbeat


def decode_action(record: Record) -> Decoded | str:
    """The action and its ledger entry, or why the record is poison."""
    if record.value is None:
        return "empty value"
    try:
        event = decode(ActionEvent, record.value)
    except ValidationError as exc:
        # errors() without input values: the message may carry personal data.
        problems = exc.errors(include_input=False, include_url=False)
        return f"{exc.error_count()} errors: {problems}"
    return Decoded(event, countable(event))


def split_poison(
    batch: Sequence[tuple[Record, Decoded | str]],
) -> tuple[list[Decoded], list[tuple[Record, str]]]:
    decoded, poison = [], []
    for record, item in batch:
        if isinstance(item, str):
            poison.append((record, item))
        else:
            decoded.append(item)
    return decoded, poison


def tracing_every_action() -> bool:
    return logging.getLogger(__name__).isEnabledFor(logging.DEBUG)


def counting_lock_key(schema: str) -> int:
    """Advisory lock: batches hold it shared, recount and invalidate exclusively."""
    return zlib.crc32(f"{schema}.counting".encode())


class CountingHandler:
    def __init__(self, schema: str, campaign_of: CampaignOf, dead_letters: KafkaDeadLetters):
        self.schema = schema
        self.campaign_of = campaign_of
        self.dead_letters = dead_letters
        self.last = BatchReport()

    decode = staticmethod(decode_action)

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, Decoded | str]]) -> None:
        decoded, poison = split_poison(batch)
        events = [d.event for d in decoded]
        if poison:
            await self.dead_letters.send(poison)
        await conn.execute(
            "SELECT pg_advisory_xact_lock_shared($1)", counting_lock_key(self.schema)
        )
        outcome = await count_actions(
            PostgresLedger(conn, self.schema),
            PostgresTotals(conn, self.schema),
            PostgresMilestones(conn, self.schema),
            [d.entry for d in decoded if d.entry],
            self.campaign_of,
        )
        heartbeats = [e.accepted_at for e in events if e.heartbeat]
        self.last = BatchReport(
            outcome=outcome,
            fresh=[e.accepted_at for e in outcome.counted] + heartbeats,
            newest=max((e.accepted_at for e in events), default=None),
            dead_letters=len(poison),
            heartbeats=len(heartbeats),
            traced=events if tracing_every_action() else [e for e in events if e.heartbeat],
        )
