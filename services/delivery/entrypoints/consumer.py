"""The batch handler of `plume.actions.v1`: keep what delivery needs, in the
consumer's transaction (PositionedConsumer saves the positions in the same one)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import NamedTuple

from services.delivery.adapters.opening import SealedFields
from services.delivery.adapters.signature_store import PgSignatureStore
from services.delivery.domain.intake import sort_actions
from services.delivery.entrypoints.action_view import ActionRecord, decode_action
from services.delivery.metrics import CONFLICTS
from shared.action_ids import CONFLICT, conflicting, fingerprint
from shared.db import Conn
from shared.lag import ConsumerLag
from shared.logs import trace_fields
from shared.positioned_consumer import Refusals
from shared.positions import Record

log = logging.getLogger(__name__)
# The conflicts of the batch in its transaction, counted once it commits: per lane (each
# lane of the PositionedConsumer commits in a task, and so a context, of its own).
_CONFLICTS: ContextVar[int] = ContextVar("delivery_batch_conflicts", default=0)


class Received(NamedTuple):
    action: ActionRecord
    fingerprint: int  # of its identity (shared.action_ids), computed with the decoding


class ActionHandler:
    """Stores each batch's signatures and messages through `store`, the actions whose id
    a different action already owns refused."""

    def __init__(self, store: PgSignatureStore, lag: ConsumerLag, sealed: SealedFields) -> None:
        self.store = store
        self.sealed = sealed
        self.lag = lag

    @staticmethod
    def decode(record: Record) -> Received:
        """The action; a ValidationError makes the consumer set the record aside."""
        action = decode_action(record.value or b"")
        return Received(action, fingerprint(action))

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, Received]]) -> Refusals:
        kept = [(record, r) for record, r in batch if not r.action.heartbeat]
        ids = [r.action.action_id for _, r in kept]
        recorded = await self.store.claim(conn, ids, [r.fingerprint for _, r in kept])
        later, differ = await conflicting(
            ids, recorded, lambda i: kept[i][1].fingerprint, partial(self.store.owners, conn)
        )
        events = [r.action for _, r in kept]
        if later:  # replays and conflicts: the id's owner was stored already
            skipped = set(later)
            events = [e for i, e in enumerate(events) if i not in skipped]
        await self.store.add(conn, sort_actions(await self.sealed.open(conn, events)))
        _CONFLICTS.set(len(differ))
        newest = (r.action.accepted_at for _, r in batch if r.action.accepted_at)
        self.lag.in_flight(max(newest, default=None))
        self._trace(r.action for _, r in batch)
        return [(kept[i][0], CONFLICT) for i in differ]

    def after_commit(self, records: int, seconds: float) -> None:
        """PositionedConsumer's on_batch."""
        self.lag.on_commit(records, seconds)
        CONFLICTS.inc(_CONFLICTS.get())

    @staticmethod
    def _trace(actions: Iterable[ActionRecord]) -> None:
        trace_all = log.isEnabledFor(logging.DEBUG)
        for action in actions:
            if action.heartbeat:
                log.info("heartbeat seen", extra=trace_fields(action))
            elif trace_all:
                log.debug("stored", extra=trace_fields(action))
