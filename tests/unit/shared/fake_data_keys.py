"""An in-memory DataKeyStore (shared/data_keys.py): the same semantics as PostgreSQL's,
checked by the one contract suite (data_keys_contract.py)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import uuid4

from shared import sealing
from shared.data_keys import DataKey
from shared.db import Conn


class FakeDataKeyStore:
    def __init__(self) -> None:
        self.by_lookup: dict[str, DataKey] = {}
        self.contact: set[str] = set()  # lookups whose consent to contact is recorded

    async def for_supporters(
        self, lookups: Collection[str], contact: Collection[str] = ()
    ) -> dict[str, DataKey]:
        self.contact.update(contact)
        for lookup in lookups:
            if lookup not in self.by_lookup:
                self.by_lookup[lookup] = DataKey(uuid4().hex, sealing.new_data_key())
        return {lookup: self.by_lookup[lookup] for lookup in lookups}

    async def held(self, conn: Conn, key_ids: Collection[str]) -> dict[str, bytes]:
        wanted = set(key_ids)
        return {k.key_id: k.secret for k in self.by_lookup.values() if k.key_id in wanted}

    async def destroy(self, conn: Conn, lookup: str) -> str | None:
        key = self.by_lookup.pop(lookup, None)
        self.contact.discard(lookup)
        return key.key_id if key else None

    async def find(self, lookup: str) -> DataKey | None:
        return self.by_lookup.get(lookup)
