"""Seals each action's personal fields with its supporter's data key before it is written
(shared/sealing.py): the name, email and message never reach Kafka in clear text. The
supporter's id on the wire becomes the data key's id, a random value: once the key is
destroyed nothing links the counted action to the email any more."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import asyncpg
import orjson

from services.intake.domain.ports import PublishUnavailable
from shared import sealing
from shared.contracts.actions import ActionEvent
from shared.data_keys import DataKey
from shared.kafka import encode

Record = tuple[bytes, bytes]  # Kafka key and value
# What sealing replaces: the supporter's id, and their fields in clear.
REPLACED: set[str] = {"supporter_key", "supporter_name", "supporter_email", "message"}


class DataKeys(Protocol):
    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]: ...


class RecordWriter(Protocol):
    """Where the records go (KafkaActionPublisher): ActionPublisher's contract."""

    async def write(self, records: list[Record]) -> None: ...

    def available(self) -> bool: ...


def sealed(event: ActionEvent, key: DataKey) -> Record:
    """The event as written: the data key's id as the supporter's id, their name, email
    and message sealed. Encoded straight to JSON, the sealed fields first and the rest of
    the event after them, rather than copied into a new event and then encoded (the copy
    alone, model_copy, cost more than a third of sealing an action)."""
    fields = sealing.PersonalFields(event.supporter_name, event.supporter_email, event.message)
    head: dict[str, str] = {"supporter_key": key.key_id}
    if not fields.is_empty():
        head["sealed"] = sealing.seal(key.secret, event.action_id, fields)
    rest = encode(event, exclude=REPLACED)
    # Two JSON objects joined into one: `rest` always holds the action's id (required).
    return key.key_id.encode(), orjson.dumps(head)[:-1] + b"," + rest[1:]


class SealingPublisher:
    def __init__(self, keys: DataKeys, writer: RecordWriter) -> None:
        self.keys = keys
        self.writer = writer

    def available(self) -> bool:
        return self.writer.available()

    async def publish(self, events: Sequence[ActionEvent]) -> None:
        """Events from intake's decision carry the supporter's lookup (the keyed hash of
        the email) as supporter_key; they are written with the data key's id instead."""
        lookups = {event.supporter_key for event in events if event.supporter_key}
        keys: dict[str, DataKey] = {}
        if lookups:
            # Consent to contact keeps the key (its email readable) past its retention.
            contact = {e.supporter_key for e in events if e.supporter_key and e.contact}
            try:
                keys = await self.keys.for_supporters(lookups, contact)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                raise PublishUnavailable("the supporters' data keys cannot be read") from exc
        await self.writer.write(
            [
                sealed(event, keys[event.supporter_key])
                if event.supporter_key
                else (event.kafka_key(), encode(event))
                for event in events
            ]
        )
