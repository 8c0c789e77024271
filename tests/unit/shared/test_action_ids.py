"""One action_id, one action: what makes a later use of an id a replay or a conflict, the
same in the counter (ledger entries) and delivery (its view of an action)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from datetime import timedelta
from uuid import RFC_4122, UUID, SafeUUID, uuid4

import msgspec
import pytest

from services.counter.domain.model import entry_of, identity_of
from services.delivery.entrypoints.action_view import ActionView
from shared.action_ids import ActionIdentity, conflicting, fingerprint, new_action_id
from shared.contracts.actions import ActionType
from shared.kafka import decode, encode
from tests.unit.counter.builders import action

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", list(ActionType))
def test_counter_and_delivery_see_the_same_identity(kind: ActionType) -> None:
    event = action(type=kind, supporter_key="key-1", country="SN", source="partner-x")
    expected = ActionIdentity.of(event)
    assert identity_of(entry_of(event)) == expected
    view = decode(ActionView, encode(event))
    assert ActionIdentity.of(view) == expected
    assert fingerprint(view) == fingerprint(event) == expected.fingerprint()
    assert (expected.supporter_key == "key-1") is (kind == ActionType.SIGNATURE)


def test_times_request_and_texts_do_not_make_an_action_different() -> None:
    first = action(type=ActionType.SIGNATURE, supporter_key="k1")
    retried = first.model_copy(
        update={
            "accepted_at": first.accepted_at + timedelta(minutes=5),
            "occurred_at": first.occurred_at + timedelta(minutes=5),
            "request_id": "another-request",
            "supporter_name": "Awa",
            "message": "Courage",
        }
    )
    assert ActionIdentity.of(retried) == ActionIdentity.of(first)


@pytest.mark.parametrize(
    "change",
    [
        {"case_id": "case-b"},
        {"type": ActionType.LETTER},
        {"count": 2},
        {"channel": "partner"},
        {"country": "FR"},
        {"source": "partner-y"},
        {"supporter_key": "k2"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_other_field_makes_it_different(change: dict[str, object]) -> None:
    first = action(type=ActionType.SIGNATURE, supporter_key="k1")
    other = first.model_copy(update=change)
    assert ActionIdentity.of(other) != ActionIdentity.of(first)
    assert ActionIdentity.of(other).fingerprint() != ActionIdentity.of(first).fingerprint()


def test_the_fingerprint_is_the_same_in_every_process() -> None:
    """Stored by one process, compared by another: no per-process hash seed in it."""
    identity = ActionIdentity.of(action(type=ActionType.SIGNATURE, supporter_key="k1"))
    script = (
        "from shared.action_ids import ActionIdentity;"
        f"print(ActionIdentity(*{tuple(identity)!r}).fingerprint())"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
        )
        assert int(out.stdout) == identity.fingerprint()


async def test_later_uses_and_conflicts_in_a_batch() -> None:
    a, b, c, d = (uuid4() for _ in range(4))
    owners = {a: "A", c: "C-earlier"}  # a recorded now, c by an earlier batch
    ids = [a, b, a, a, c, c, d]
    marks = ["A", "B", "A", "A-other", "C-earlier", "C-other", "D"]

    async def owned(wanted: list[UUID]) -> dict[UUID, str]:
        return {i: owners[i] for i in wanted if i in owners}

    later, differ = await conflicting(ids, {a, b, d}, marks.__getitem__, owned)
    assert later == [2, 3, 4, 5]  # c: recorded by an earlier batch, so both uses are later
    assert differ == [3, 5]
    assert await conflicting(ids[:2], {a, b}, marks.__getitem__, owned) == ([], [])


def test_server_assigned_ids_are_time_ordered_uuid7_so_the_ledger_index_appends() -> None:
    ids = [new_action_id() for _ in range(1_000)]
    assert {i.version for i in ids} == {7}
    assert all(isinstance(i, UUID) for i in ids)  # the stdlib's, as pydantic and asyncpg take
    stamps = [i.int >> 80 for i in ids]  # the 48-bit millisecond timestamp leads
    assert stamps == sorted(stamps)
    assert len(set(ids)) == len(ids)
    # Made without UUID(): the same as one made by it, in every way a reader sees.
    made = ids[0]
    assert made == UUID(str(made)) and hash(made) == hash(UUID(str(made)))
    assert made.variant == RFC_4122 and made.is_safe is SafeUUID.unknown
    assert msgspec.json.encode(made) == msgspec.json.encode(UUID(str(made)))
    assert pickle.loads(pickle.dumps(made)) == made
