"""One action_id, one action. The first accepted action owns its id in every consumer: a
later record under the same id is never counted nor delivered. When it is the same action
(a client's retry, a replay: the same case, type, count, channel, country, source and, for
a signature, supporter) it is ignored in silence; when it differs in any of these, it is
refused: set aside in the dead-letter topic with CONFLICT and counted in
`plume_<service>_conflicting_actions_total`. The time fields (occurred_at is the server's
clock when a client leaves it out) and the request id do not make an action different."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import NamedTuple, Protocol, TypeVar
from uuid import UUID, SafeUUID

import uuid_utils

from shared.contracts.actions import ActionType

CONFLICT = "action_id already taken by a different action (the first accepted owns it)"
Mark = TypeVar("Mark")  # what tells two uses of an id apart: an identity, a fingerprint
SIGNATURE = ActionType.SIGNATURE  # a module name: ActionType.SIGNATURE costs 7x the compare
# Likewise: looking SafeUUID.unknown up cost 0.5 µs (an enum's property in Python 3.11).
_SAFE_UNKNOWN = SafeUUID.unknown


def new_action_id() -> UUID:
    """A server-assigned action id: a UUIDv7 (RFC 9562), time-ordered, so that the ledgers'
    unique indexes (counter, delivery) append at their right edge instead of splitting
    random pages as UUIDv4 did. Still 74 random bits: ids cannot be guessed."""
    # The stdlib's UUID made as uuid_utils.compat.uuid7 makes it (UUID(int=) checks the
    # range and sets the version again), without its look-up of SafeUUID.unknown per id:
    # 0.8 µs an id where compat's took 2.9, a tenth of a batch action's CPU.
    action_id = object.__new__(UUID)
    object.__setattr__(action_id, "int", uuid_utils.uuid7().int)
    object.__setattr__(action_id, "is_safe", _SAFE_UNKNOWN)
    return action_id


class ActionFacts(Protocol):
    @property
    def case_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def supporter_key(self) -> str | None: ...


class ActionIdentity(NamedTuple):
    case_id: str
    type: str
    amount: int  # the action's count (a tuple already has a count())
    channel: str
    country: str
    source: str
    supporter_key: str | None  # a signature's supporter; None for the other types

    @classmethod
    def of(cls, action: ActionFacts) -> ActionIdentity:
        return cls(
            action.case_id,
            str(action.type),
            action.count,
            str(action.channel),
            action.country,
            action.source,
            _signer(action),
        )

    def fingerprint(self) -> int:
        return _digest(*self)


def fingerprint(action: ActionFacts) -> int:
    """ActionIdentity.of(action).fingerprint() at a third of the cost (once per action in
    delivery): a CRC-32 of the identity, the same in every process. Two different actions
    with one fingerprint under one id would pass for a replay: still never stored twice,
    only not reported (one chance in four billion)."""
    return _digest(
        action.case_id,
        action.type,
        action.count,
        action.channel,
        action.country,
        action.source,
        _signer(action),
    )


def _signer(action: ActionFacts) -> str | None:
    return action.supporter_key if action.type == SIGNATURE else None


def _digest(
    case_id: str,
    type: str,
    amount: int,
    channel: str,
    country: str,
    source: str,
    signer: str | None,
) -> int:
    # str.join takes the enums (str subclasses) as they are, where formatting calls them
    fields = (case_id, type, str(amount), channel, country, source, signer or "")
    return zlib.crc32("\x1f".join(fields).encode())


async def conflicting(
    ids: Sequence[UUID],
    recorded: set[UUID],
    mark_of: Callable[[int], Mark],
    owners: Callable[[list[UUID]], Awaitable[Mapping[UUID, Mark]]],
) -> tuple[list[int], list[int]]:
    """Of a batch's uses of ids (in order), once the first use of each id not seen before
    was recorded (`recorded`): the indexes of the later uses, and those among them whose
    mark differs from the mark of the id's owner (`owners` reads them, this batch's
    included; an id it does not know has no owner to differ from)."""
    if len(recorded) == len(ids):
        return [], []  # nearly always: every id new, each used once
    firsts: set[UUID] = set()
    later: list[int] = []
    for index, action_id in enumerate(ids):
        if action_id in recorded and action_id not in firsts:
            firsts.add(action_id)
        else:
            later.append(index)
    owned = await owners(sorted({ids[i] for i in later}))
    differ = []
    for i in later:
        mark = mark_of(i)
        if owned.get(ids[i], mark) != mark:
            differ.append(i)
    return later, differ
