"""Opens the sealed personal fields of a batch's actions (shared/sealing.py) in the
consumer's transaction. The data keys are read with a lock held until that transaction
ends, so an erasure, which deletes the key, waits for what was opened with it to be
committed, and then finds it to scrub. An action whose key is gone keeps nothing personal:
a signature is counted on the cover without a name, a message is not kept."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel

from shared import sealing
from shared.data_keys import DataKeyStore
from shared.db import Conn

# An action as a pydantic model (ActionEvent, ActionView) or as the consumer decodes it.
View = TypeVar("View", bound=BaseModel | msgspec.Struct)


class SealedFields:
    def __init__(self, keys: DataKeyStore) -> None:
        self.keys = keys

    async def open(self, conn: Conn, actions: Sequence[View]) -> list[View]:
        ids = {key for a in actions if getattr(a, "sealed", None) and (key := _key(a))}
        held = await self.keys.held(conn, ids)
        return [_opened(a, held) for a in actions]


def _key(action: BaseModel | msgspec.Struct) -> str | None:
    key: str | None = getattr(action, "supporter_key", None)
    return key


def _opened(action: View, held: dict[str, bytes]) -> View:
    sealed_text: str | None = getattr(action, "sealed", None)
    if sealed_text is None:
        return action  # written before sealing: its fields are in clear
    key_id = _key(action)
    secret = held.get(key_id) if key_id else None
    fields = sealing.PersonalFields()  # erased (or tampered with): nothing personal
    if secret is not None:
        action_id = getattr(action, "action_id")  # noqa: B009 (a pydantic model's field)
        with contextlib.suppress(sealing.Unreadable):
            fields = sealing.open_sealed(secret, action_id, sealed_text)
    return _replaced(action, supporter_name=fields.name, message=fields.message, sealed=None)


def _replaced(action: View, **changes: Any) -> View:
    if isinstance(action, msgspec.Struct):
        return msgspec.structs.replace(action, **changes)
    return action.model_copy(update=changes)
