"""The console's session and CSRF rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.domain.console import (
    DEFAULT_PAGE,
    MAX_PAGE,
    csrf_valid,
    open_session,
    page_size,
    token_hash,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
HOURS_8 = timedelta(hours=8)


def test_a_key_that_cannot_read_dossiers_opens_no_session() -> None:
    assert open_session("intake-web", frozenset({"actions:write"}), NOW, HOURS_8) is None
    assert open_session("nobody", frozenset(), NOW, HOURS_8) is None


def test_a_reader_gets_a_session_that_cannot_acknowledge_and_ends_at_its_ttl() -> None:
    opened = open_session("tunis-team", frozenset({"dossiers:read"}), NOW, HOURS_8)
    assert opened is not None
    assert not opened.session.can_acknowledge
    assert opened.session.live_at(NOW + HOURS_8 - timedelta(seconds=1))
    assert not opened.session.live_at(NOW + HOURS_8)


def test_a_writer_may_acknowledge() -> None:
    opened = open_session("t", frozenset({"dossiers:read", "dossiers:write"}), NOW, HOURS_8)
    assert opened is not None and opened.session.can_acknowledge


def test_tokens_are_fresh_and_only_their_hash_is_kept() -> None:
    a = open_session("t", frozenset({"dossiers:read"}), NOW, HOURS_8)
    b = open_session("t", frozenset({"dossiers:read"}), NOW, HOURS_8)
    assert a is not None and b is not None
    assert len({a.token, b.token, a.session.csrf_token, b.session.csrf_token}) == 4
    assert len(a.token) >= 43  # 256 bits, url-safe base64
    assert a.token_hash == token_hash(a.token) != token_hash(b.token)
    assert a.token.encode() not in a.token_hash


@pytest.mark.parametrize(
    ("expected", "given", "valid"),
    [
        ("abc123", "abc123", True),
        ("abc123", "abc124", False),
        ("abc123", "", False),
        ("abc123", None, False),
        ("", "", False),  # no token on either side never passes
        (None, None, False),
        ("abc123", "abc1234", False),
    ],
)
def test_csrf_tokens_must_match_exactly_and_be_present(
    expected: str | None, given: str | None, valid: bool
) -> None:
    assert csrf_valid(expected, given) is valid


def test_page_sizes_are_bounded() -> None:
    assert page_size(None) == DEFAULT_PAGE
    assert page_size(0) == 1
    assert page_size(20) == 20
    assert page_size(10**6) == MAX_PAGE
