"""Which failures are about the records (set them aside) and which are about the world
(retry), and descriptions that never carry the values that failed."""

from __future__ import annotations

import asyncpg
import pytest
from pydantic import BaseModel, ValidationError

from shared.failures import describe, is_permanent

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.DataError("invalid input for query argument $5: datetime(1, 1, 1)"),
        asyncpg.exceptions.DatetimeFieldOverflowError("date/time field value out of range"),
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"),
        asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape sequence"),
        asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range"),
        asyncpg.exceptions.CheckViolationError("violates check constraint"),
        asyncpg.exceptions.NotNullViolationError("null value in column"),
        asyncpg.exceptions.ProgramLimitExceededError("index row size exceeds maximum"),
        ValueError("year 0 is out of range"),
        OverflowError("date value out of range"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    ],
    ids=type,
)
def test_errors_about_the_values_are_permanent(error: Exception) -> None:
    assert is_permanent(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.LockNotAvailableError("could not obtain lock"),
        asyncpg.exceptions.UndefinedTableError('relation "ledger" does not exist'),
        asyncpg.InterfaceError("another operation is in progress"),
        ConnectionRefusedError(),
        TimeoutError(),
        TypeError("a bug: retried so that its fix loses nothing"),
    ],
    ids=type,
)
def test_errors_about_the_world_or_the_code_are_transient(error: Exception) -> None:
    assert not is_permanent(error)


@pytest.mark.parametrize(
    ("error", "described"),
    [
        (
            asyncpg.DataError(
                "invalid input for query argument $3: 'Awa Diallo' (expected str, got int)"
            ),
            "DataError [22000]: invalid input for query argument $3 (expected str, got int)",
        ),
        (
            asyncpg.DataError(
                "invalid input for query argument $5: datetime.datetime(1, 1, 1, 0,"
                " 30, tzinfo... (date value out of range)"
            ),
            "DataError [22000]: invalid input for query argument $5 (date value out of range)",
        ),
        (
            asyncpg.exceptions.InvalidTextRepresentationError(
                'invalid input syntax for type uuid: "awa@example.org"'
            ),
            "InvalidTextRepresentationError [22P02]: invalid input syntax for type uuid: …",
        ),
        (
            asyncpg.exceptions.UniqueViolationError(
                "duplicate key value\nDETAIL:  Key (email)=(awa@example.org) already exists."
            ),
            "UniqueViolationError [23505]: duplicate key value",
        ),
        (
            ValueError("invalid literal for int() with base 10: 'Awa'"),
            "ValueError: invalid literal for int() with base 10: …",
        ),
        (TimeoutError(), "TimeoutError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_descriptions_keep_the_kind_and_drop_the_values(error: Exception, described: str) -> None:
    assert describe(error) == described


def test_a_validation_error_is_described_by_fields_and_kinds_only() -> None:
    class Action(BaseModel):
        email: int
        count: int

    with pytest.raises(ValidationError) as caught:
        Action.model_validate({"email": "awa@example.org"})
    assert describe(caught.value) == ("2 validation errors: email int_parsing, count missing")
