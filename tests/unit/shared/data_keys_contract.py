"""The semantics of the DataKeyStore port, run against the in-memory fake (tests/unit)
and the PostgreSQL adapter (tests/integration)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import uuid4

import pytest

from shared import sealing
from shared.data_keys import DataKeyStore
from shared.db import Conn


@dataclass
class Store:
    keys: DataKeyStore
    conn: Conn  # the transaction `held` and `destroy` run in


def lookups(n: int) -> list[str]:
    return [f"lookup-{uuid4().hex}" for _ in range(n)]


class DataKeysContract:
    async def test_one_key_per_supporter_made_once(self, store: Store) -> None:
        a, b = lookups(2)
        first = await store.keys.for_supporters([a, b])
        again = await store.keys.for_supporters([a])
        assert again[a] == first[a]
        assert first[a].key_id != first[b].key_id and first[a].secret != first[b].secret
        assert len(first[a].secret) == sealing.KEY_BYTES

    async def test_callers_racing_for_a_new_supporter_get_one_key(self, store: Store) -> None:
        a, b = lookups(2)
        made = await asyncio.gather(*(store.keys.for_supporters([a, b]) for _ in range(4)))
        assert all(m == made[0] for m in made) and len(made[0]) == 2

    async def test_the_id_on_the_wire_is_not_the_lookup(self, store: Store) -> None:
        (a,) = lookups(1)
        key = (await store.keys.for_supporters([a]))[a]
        assert key.key_id != a and a not in key.key_id

    async def test_held_gives_the_keys_that_exist(self, store: Store) -> None:
        a, b = lookups(2)
        made = await store.keys.for_supporters([a, b])
        held = await store.keys.held(store.conn, [made[a].key_id, "no-such-key"])
        assert held == {made[a].key_id: made[a].secret}
        assert await store.keys.held(store.conn, []) == {}

    async def test_destroyed_key_is_gone_and_a_new_one_is_made_after(self, store: Store) -> None:
        (a,) = lookups(1)
        old = (await store.keys.for_supporters([a]))[a]
        sealed = sealing.seal(old.secret, uuid4(), sealing.PersonalFields(name="Awa"))
        assert await store.keys.destroy(store.conn, a) == old.key_id
        assert await store.keys.held(store.conn, [old.key_id]) == {}
        assert await store.keys.find(a) is None
        new = (await store.keys.for_supporters([a]))[a]
        assert new.key_id != old.key_id
        with pytest.raises(sealing.Unreadable):
            sealing.open_sealed(new.secret, uuid4(), sealed)

    async def test_destroying_an_unknown_supporter_destroys_nothing(self, store: Store) -> None:
        (a,) = lookups(1)
        assert await store.keys.destroy(store.conn, a) is None

    async def test_find_never_makes_a_key(self, store: Store) -> None:
        (a,) = lookups(1)
        assert await store.keys.find(a) is None
        made = (await store.keys.for_supporters([a]))[a]
        assert await store.keys.find(a) == made
