"""Seals each action's personal fields with its supporter's data key before it is written
(shared/sealing.py): the name, email and message never reach Kafka in clear text. The
supporter's id on the wire becomes the data key's id, a random value: once the key is
destroyed nothing links the counted action to the email any more."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import asyncpg

from services.intake.domain.ports import ActionPublisher, PublishUnavailable
from shared import sealing
from shared.contracts.actions import ActionEvent
from shared.data_keys import DataKey

CLEARED = {"supporter_name": None, "supporter_email": None, "message": None}


class DataKeys(Protocol):
    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]: ...


def sealed(event: ActionEvent, key: DataKey) -> ActionEvent:
    fields = sealing.PersonalFields(event.supporter_name, event.supporter_email, event.message)
    update: dict[str, object] = {"supporter_key": key.key_id}
    if not fields.is_empty():
        update |= CLEARED | {"sealed": sealing.seal(key.secret, event.action_id, fields)}
    return event.model_copy(update=update)


class SealingPublisher:
    def __init__(self, keys: DataKeys, publisher: ActionPublisher) -> None:
        self.keys = keys
        self.publisher = publisher

    def available(self) -> bool:
        return self.publisher.available()

    async def publish(self, events: Sequence[ActionEvent]) -> None:
        """Events from intake's decision carry the supporter's lookup (the keyed hash of
        the email) as supporter_key; they are written with the data key's id instead."""
        lookups = {event.supporter_key for event in events if event.supporter_key}
        if lookups:
            # Consent to contact keeps the key (its email readable) past its retention.
            contact = {e.supporter_key for e in events if e.supporter_key and e.contact}
            try:
                keys = await self.keys.for_supporters(lookups, contact)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                raise PublishUnavailable("the supporters' data keys cannot be read") from exc
            events = [
                sealed(event, keys[event.supporter_key]) if event.supporter_key else event
                for event in events
            ]
        await self.publisher.publish(events)
