from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.supporter_key import keyed_hash, normalise_email, supporter_key

pytestmark = pytest.mark.unit
SECRET = b"test-secret-0123456789"


def test_key_is_hmac_sha256_of_the_normalised_email() -> None:
    expected = hmac.new(SECRET, b"awa@example.org", hashlib.sha256).hexdigest()
    assert supporter_key(SECRET, "awa@example.org") == expected


def test_case_and_surrounding_spaces_do_not_change_the_key() -> None:
    assert supporter_key(SECRET, "  Awa@Example.ORG ") == supporter_key(SECRET, "awa@example.org")


def test_unicode_forms_share_a_key() -> None:
    assert normalise_email("jose\u0301@example.org") == "jos\u00e9@example.org"
    assert supporter_key(SECRET, "jose\u0301@example.org") == supporter_key(
        SECRET, "jos\u00e9@example.org"
    )


def test_another_secret_gives_another_key_and_the_email_is_not_in_it() -> None:
    key = supporter_key(SECRET, "awa@example.org")
    assert key != supporter_key(b"another-secret-98765", "awa@example.org")
    assert "awa" not in key and key != hashlib.sha256(b"awa@example.org").hexdigest()


def test_each_key_is_computed_afresh_from_the_secret() -> None:
    # The keyed HMAC is reused through copies: one email must never leak into the next.
    for email in ("a@example.org", "b@example.org", "a@example.org"):
        expected = hmac.new(SECRET, email.encode(), hashlib.sha256).hexdigest()
        assert supporter_key(SECRET, email) == expected


@given(secret=st.binary(max_size=200), text=st.text(max_size=300))
def test_the_keyed_hash_is_hmac_sha256_for_any_secret_and_text(secret: bytes, text: str) -> None:
    # Secrets longer than SHA-256's block (64 bytes) are hashed first, as HMAC says.
    expected = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
    assert keyed_hash(secret, text) == expected


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 100, 129, 300])
def test_secrets_of_every_length_around_the_block_give_hmac_sha256(length: int) -> None:
    secret = bytes(range(256))[:length] * (1 + length // 256)
    expected = hmac.new(secret, b"awa@example.org", hashlib.sha256).hexdigest()
    assert keyed_hash(secret, "awa@example.org") == expected
