"""Seals each action's personal fields with its supporter's data key before it is written
(shared/sealing.py): the name, email and message never reach Kafka in clear text. The
supporter's id on the wire becomes the data key's id, a random value: once the key is
destroyed nothing links the counted action to the email any more."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import asyncpg
import msgspec

from services.intake.domain.ports import PublishUnavailable
from shared import sealing
from shared.contracts.action_record import ActionRecord, kafka_record
from shared.data_keys import DataKey

Record = tuple[bytes, bytes]  # Kafka key and value


class DataKeys(Protocol):
    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]: ...


class RecordWriter(Protocol):
    """Where the records go (KafkaActionPublisher): ActionPublisher's contract."""

    async def write(self, records: list[Record]) -> None: ...

    def available(self) -> bool: ...


def sealed(event: ActionRecord, key: DataKey, nonce: bytes | None = None) -> Record:
    """The event as written: the data key's id as the supporter's id, their name, email
    and message sealed (the clear fields None, so left out of the JSON); `nonce`, one of
    sealing.nonces(), else one read now."""
    fields = sealing.PersonalFields(event.supporter_name, event.supporter_email, event.message)
    sealed_fields = (
        None if fields.is_empty() else sealing.seal(key.secret, event.action_id, fields, nonce)
    )
    record = msgspec.structs.replace(
        event,
        supporter_key=key.key_id,
        supporter_name=None,
        supporter_email=None,
        message=None,
        sealed=sealed_fields,
    )
    return kafka_record(record)  # keyed by the data key's id, its supporter_key now


class SealingPublisher:
    def __init__(self, keys: DataKeys, writer: RecordWriter) -> None:
        self.keys = keys
        self.writer = writer

    def available(self) -> bool:
        return self.writer.available()

    async def publish(self, events: Sequence[ActionRecord]) -> None:
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
        nonces = sealing.nonces(len(events))
        await self.writer.write(
            [
                sealed(event, keys[event.supporter_key], next(nonces))
                if event.supporter_key
                else kafka_record(event)
                for event in events
            ]
        )
