"""Opens the sealed personal fields of a batch's actions (shared/sealing.py) in the
consumer's transaction. The data keys are read with a lock held until that transaction
ends, so an erasure, which deletes the key, waits for what was opened with it to be
committed, and then finds it to scrub. An action whose key is gone keeps nothing personal:
a signature is counted on the cover without a name, a message is not kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar, cast
from uuid import UUID

import msgspec
from pydantic import BaseModel

from shared import sealing
from shared.data_keys import DataKeyStore
from shared.db import Conn


class Sealable(Protocol):
    """An action as a pydantic model (ActionEvent, ActionView) or a msgspec struct (as the
    consumer decodes it), each with these fields."""

    @property
    def action_id(self) -> UUID: ...
    @property
    def supporter_key(self) -> str | None: ...
    @property
    def sealed(self) -> str | None: ...


View = TypeVar("View", bound=Sealable)
NOTHING_PERSONAL = sealing.PersonalFields()
_force = msgspec.structs.force_setattr


class SealedFields:
    def __init__(self, keys: DataKeyStore) -> None:
        self.keys = keys

    async def open(self, conn: Conn, actions: Sequence[View]) -> list[View]:
        ids = {a.supporter_key for a in actions if a.sealed and a.supporter_key}
        held = await self.keys.held(conn, ids)
        # One cipher per key, not per action: a supporter's actions of a batch share it
        # (their key routes them to one partition), and making one costs half of opening.
        ciphers: dict[str | None, sealing.Key]
        ciphers = {key_id: sealing.cipher(secret) for key_id, secret in held.items()}
        # (Actions written before sealing hold their fields in clear: kept as they are.)
        return [a if a.sealed is None else _opened(a, a.sealed, ciphers) for a in actions]


def _opened(action: View, sealed_text: str, ciphers: Mapping[str | None, sealing.Key]) -> View:
    """A copy of the action with its fields in clear, or with nothing personal where its
    key was erased or the value was tampered with. (The action itself is left as it is: a
    batch whose transaction fails is processed again, and opened again, from it.)"""
    cipher = ciphers.get(action.supporter_key)
    fields = NOTHING_PERSONAL  # its key erased
    if cipher is not None:
        try:  # (a context manager made per action cost 10 % of opening it)
            fields = sealing.open_sealed(cipher, action.action_id, sealed_text)
        except sealing.Unreadable:
            fields = NOTHING_PERSONAL  # tampered with
    if isinstance(action, msgspec.Struct):
        # A copy's fields set one by one: half the cost of structs.replace (its keyword
        # handling). Forcing is safe here: the copy is new, seen by nothing else yet.
        copied: msgspec.Struct = action.__copy__()
        _force(copied, "supporter_name", fields.name)
        _force(copied, "message", fields.message)
        _force(copied, "sealed", None)
        return cast(View, copied)
    changes = {"supporter_name": fields.name, "message": fields.message, "sealed": None}
    return cast(View, cast(BaseModel, action).model_copy(update=changes))
