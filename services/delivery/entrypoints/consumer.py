"""The batch handler of `plume.actions.v1`: keep what delivery needs, in the
consumer's transaction (PositionedConsumer saves the positions in the same one)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from functools import partial
from operator import attrgetter

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
_ACCEPTED_AT, _HEARTBEAT = attrgetter("accepted_at"), attrgetter("heartbeat")


class ActionHandler:
    """Stores each batch's signatures and messages through `store`, the actions whose id
    a different action already owns refused."""

    def __init__(self, store: PgSignatureStore, lag: ConsumerLag, sealed: SealedFields) -> None:
        self.store = store
        self.sealed = sealed
        self.lag = lag

    @staticmethod
    def decode(record: Record) -> ActionRecord:
        """The action; a ValidationError makes the consumer set the record aside."""
        return decode_action(record.value or b"")

    async def __call__(self, conn: Conn, batch: Sequence[tuple[Record, ActionRecord]]) -> Refusals:
        actions = [action for _, action in batch]
        kept: Sequence[tuple[Record, ActionRecord]] = batch
        events, heartbeats = actions, []
        if any(map(_HEARTBEAT, actions)):  # rare: one a minute from each intake process
            kept = [item for item in batch if not item[1].heartbeat]
            events = [action for _, action in kept]
            heartbeats = [action for action in actions if action.heartbeat]
        ids = [event.action_id for event in events]
        marks = [fingerprint(event) for event in events]
        recorded = await self.store.claim(conn, ids, marks)
        later, differ = await conflicting(
            ids, recorded, marks.__getitem__, partial(self.store.owners, conn)
        )
        new = events
        if later:  # replays and conflicts: the id's owner was stored already
            skipped = set(later)
            new = [e for i, e in enumerate(events) if i not in skipped]
        await self.store.add(conn, sort_actions(await self.sealed.open(conn, new)))
        _CONFLICTS.set(len(differ))
        self.lag.in_flight(max(filter(None, map(_ACCEPTED_AT, actions)), default=None))
        self._trace(events, heartbeats)
        return [(kept[i][0], CONFLICT) for i in differ]

    def after_commit(self, records: int, seconds: float) -> None:
        """PositionedConsumer's on_batch."""
        self.lag.on_commit(records, seconds)
        CONFLICTS.inc(_CONFLICTS.get())

    @staticmethod
    def _trace(stored: Iterable[ActionRecord], heartbeats: Iterable[ActionRecord]) -> None:
        for beat in heartbeats:
            log.info("heartbeat seen", extra=trace_fields(beat))
        if log.isEnabledFor(logging.DEBUG):
            for action in stored:
                log.debug("stored", extra=trace_fields(action))
