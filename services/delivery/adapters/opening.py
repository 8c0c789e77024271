"""Opens the sealed personal fields of a batch's actions (shared/sealing.py) in the
consumer's transaction. The data keys are read with a lock held until that transaction
ends, so an erasure, which deletes the key, waits for what was opened with it to be
committed, and then finds it to scrub. An action whose key is gone keeps nothing personal:
a signature is counted on the cover without a name, a message is not kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar, cast

import msgspec
from pydantic import BaseModel

from shared import sealing
from shared.data_keys import DataKeyStore
from shared.db import Conn

# An action as a pydantic model (ActionEvent, ActionView) or as the consumer decodes it.
View = TypeVar("View", bound=BaseModel | msgspec.Struct)
NOTHING_PERSONAL = sealing.PersonalFields()
_force = msgspec.structs.force_setattr


class SealedFields:
    def __init__(self, keys: DataKeyStore) -> None:
        self.keys = keys

    async def open(self, conn: Conn, actions: Sequence[View]) -> list[View]:
        ids = {key for a in actions if getattr(a, "sealed", None) and (key := _key(a))}
        held = await self.keys.held(conn, ids)
        # One cipher per key, not per action: a supporter's actions of a batch share it
        # (their key routes them to one partition), and making one costs half of opening.
        ciphers = {key_id: sealing.cipher(secret) for key_id, secret in held.items()}
        return [_opened(a, ciphers) for a in actions]


def _key(action: BaseModel | msgspec.Struct) -> str | None:
    key: str | None = getattr(action, "supporter_key", None)
    return key


def _opened(action: View, ciphers: Mapping[str, sealing.Key]) -> View:
    sealed_text: str | None = getattr(action, "sealed", None)
    if sealed_text is None:
        return action  # written before sealing: its fields are in clear
    key_id = _key(action)
    cipher = ciphers.get(key_id) if key_id else None
    fields = NOTHING_PERSONAL  # its key erased
    if cipher is not None:
        action_id = getattr(action, "action_id")  # noqa: B009 (a pydantic model's field)
        try:  # (a context manager made per action cost 10 % of opening it)
            fields = sealing.open_sealed(cipher, action_id, sealed_text)
        except sealing.Unreadable:
            fields = NOTHING_PERSONAL  # tampered with
    return _opened_copy(action, fields)


def _opened_copy(action: View, fields: sealing.PersonalFields) -> View:
    """A copy of the action with `fields` in clear (the action itself is left as it is: a
    batch whose transaction fails is processed again, and opened again, from it)."""
    if isinstance(action, msgspec.Struct):
        return cast(View, _opened_struct(action, fields))
    changes = {"supporter_name": fields.name, "message": fields.message, "sealed": None}
    return action.model_copy(update=changes)


def _opened_struct(action: msgspec.Struct, fields: sealing.PersonalFields) -> msgspec.Struct:
    # A copy's fields set one by one: half the cost of structs.replace (its keyword
    # handling). Forcing is safe here: the copy is new, seen by nothing else yet.
    copied: msgspec.Struct = action.__copy__()  # type: ignore[attr-defined]  # not in stubs
    _force(copied, "supporter_name", fields.name)
    _force(copied, "message", fields.message)
    _force(copied, "sealed", None)
    return copied
