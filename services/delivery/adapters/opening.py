"""Opens the sealed personal fields of a batch's actions (shared/sealing.py) in the
consumer's transaction. The data keys are read with a lock held until that transaction
ends, so an erasure, which deletes the key, waits for what was opened with it to be
committed, and then finds it to scrub. An action whose key is gone keeps nothing personal:
a signature is counted on the cover without a name, a message is not kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel

from shared import sealing
from shared.data_keys import DataKeyStore
from shared.db import Conn

# An action as a pydantic model (ActionEvent, ActionView) or as the consumer decodes it.
View = TypeVar("View", bound=BaseModel | msgspec.Struct)
NOTHING_PERSONAL = sealing.PersonalFields()


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
    return _replaced(action, supporter_name=fields.name, message=fields.message, sealed=None)


def _replaced(action: View, **changes: Any) -> View:
    if isinstance(action, msgspec.Struct):
        return msgspec.structs.replace(action, **changes)
    return action.model_copy(update=changes)
