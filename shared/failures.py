"""Why a consumer could not process records, told apart the way it must act on it:
a PERMANENT failure is about the records themselves (the same records fail the same way
however often they are tried: set the culprit aside), anything else is TRANSIENT (the
database, Kafka, the network, a lock: try again). Descriptions never carry the values
that failed: they may be personal data."""

from __future__ import annotations

import re

import asyncpg
from pydantic import ValidationError

# SQLSTATE classes caused by the values written: data exception (22: out of range,
# invalid text, NUL byte…), integrity constraint violation (23), program limit
# exceeded (54: an index row too large for its value). Connection (08), resources (53),
# operator intervention (57), serialization failures and deadlocks (40), and undefined
# or forbidden objects (42: a deployment's fault, not a record's) are transient.
PERMANENT_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
# Python errors raised by a value (a date out of range, an undecodable byte). Other
# exceptions (TypeError, KeyError, …) are bugs: retried, so that a fix loses nothing.
PERMANENT_PYTHON_ERRORS = (ValueError, ArithmeticError)

_QUERY_ARGUMENT = re.compile(r"(invalid input for query argument \$\d+):.*(\([^()]*\))$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
MAX_DESCRIPTION = 300


def is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] in PERMANENT_SQLSTATE_CLASSES
    return isinstance(exc, PERMANENT_PYTHON_ERRORS)


def describe(exc: BaseException) -> str:
    """The error's type, SQLSTATE and the names of what it concerns (table, column,
    constraint), with its message stripped of every quoted or echoed value."""
    if isinstance(exc, ValidationError):
        return validation_summary(exc)
    parts = [type(exc).__name__]
    if isinstance(exc, asyncpg.PostgresError):
        parts += [f"[{exc.sqlstate}]"] if exc.sqlstate else []
        for what in ("table", "column", "constraint"):
            name = getattr(exc, f"{what}_name", None)
            parts += [f"{what} {name}"] if name else []
    message = scrubbed(str(exc))
    return (" ".join(parts) + (f": {message}" if message else ""))[:MAX_DESCRIPTION]


def scrubbed(message: str) -> str:
    """The first line of `message` (PostgreSQL's DETAIL lines echo key values), without
    the argument asyncpg echoes or any quoted text."""
    first = message.strip().split("\n", 1)[0]
    first = _QUERY_ARGUMENT.sub(r"\1 \2", first)
    return _QUOTED.sub("…", first)


def validation_summary(exc: ValidationError) -> str:
    """Which fields failed and how (pydantic's error types), never their input."""
    problems = [
        f"{'.'.join(str(part) for part in e['loc']) or 'value'} {e['type']}"
        for e in exc.errors(include_input=False, include_url=False, include_context=False)
    ]
    return f"{exc.error_count()} validation errors: {', '.join(problems)}"[:MAX_DESCRIPTION]
