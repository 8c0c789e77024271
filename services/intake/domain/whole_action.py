"""The rules of an action that span several fields: a signature needs its supporter, a
solidarity message its text, and a supporter is named by name and email unless the action
is a tally (count > 1, not a signature), which may give its supporters' country alone.

ActionIn checks them once its fields are valid. When a field failed, pydantic skips that
check; the routes then run these rules on what the caller sent (`with_whole_action`), so
that every fault is listed at once (a batch item with two faults is told both)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from shared.contracts.actions import ActionType

# What a type of action cannot go without: checked here, stated in ActionIn's JSON Schema.
REQUIRED_BY_TYPE = {ActionType.SIGNATURE: "supporter", ActionType.SOLIDARITY_MESSAGE: "message"}
_REQUIRED_BY_NAME = {kind.value: field for kind, field in REQUIRED_BY_TYPE.items()}
IDENTITY = ("name", "email")  # what a tally may leave out of its supporter


class Fault(NamedTuple):
    code: str
    message: str
    loc: tuple[str, ...]
    input: Any


def faults(action: Any) -> list[Fault]:
    """The whole-action faults of `action`: a validated ActionIn, or the JSON object sent."""
    if isinstance(action, BaseModel) and is_whole(action):
        return []
    found = []
    kind = _get(action, "type")
    field = _REQUIRED_BY_NAME.get(kind) if isinstance(kind, str) else None
    if field is not None and _get(action, field) is None:
        found.append(Fault("required_for_type", f"is required for a {kind}", (field,), action))
    supporter = _get(action, "supporter")
    if supporter is None:
        return found
    missing = [part for part in IDENTITY if _get(supporter, part) is None]
    count = _get(action, "count")
    is_tally = type(count) is int and count > 1 and kind != ActionType.SIGNATURE
    if is_tally and len(missing) == len(IDENTITY):
        return found  # the country (and language) of a tally's supporters, alone
    message = "is required (only a tally, count > 1, may give the country alone)"
    found += [Fault("missing", message, ("supporter", part), supporter) for part in missing]
    return found


def is_whole(action: Any) -> bool:
    """A validated action (ActionIn, fast_model.FastAction) with all it needs (its type's
    field, a named supporter): the usual case, told in a few attribute reads (`faults`
    costs ~3 µs per action through `_get`)."""
    field = REQUIRED_BY_TYPE.get(action.type)
    supporter = action.supporter
    if field is not None and getattr(action, field) is None:
        return False
    return supporter is None or (supporter.name is not None and supporter.email is not None)


def as_error(found: Sequence[Fault]) -> ValidationError:
    """What ActionIn raises: each fault at its own location."""
    return ValidationError.from_exception_data(
        "ActionIn",
        [
            {"type": PydanticCustomError(f.code, f.message), "loc": f.loc, "input": f.input}
            for f in found
        ],
    )


def with_whole_action(
    errors: Sequence[ErrorDetails], sent: Any, prefix: tuple[int | str, ...] = ()
) -> list[ErrorDetails]:
    """The fields' `errors` of the action `sent` (at `prefix` in the body), and the faults
    of the whole action at places they do not already name."""
    taken = {tuple(error["loc"]) for error in errors}
    added: list[ErrorDetails] = [
        {"type": f.code, "loc": (*prefix, *f.loc), "msg": f.message, "input": f.input}
        for f in faults(sent)
        if (*prefix, *f.loc) not in taken
    ]
    return [*errors, *added]


def _get(value: Any, name: str) -> Any:
    """A field of the JSON object sent, or of a validated model."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)
