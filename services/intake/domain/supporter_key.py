"""The supporter key: the identity used to count a signature once per supporter and case
without putting the email address on the wire (a keyed hash, so it cannot be reversed by
hashing a list of known addresses without the secret). `keyed_hash` is the one way intake
hashes a value with a secret (the abuse-detection hashes of origins.py use it too)."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache


def normalise_email(email: str) -> str:
    """The form two addresses of one supporter share: NFC, trimmed, lower-case."""
    return unicodedata.normalize("NFC", email).strip().lower()


def supporter_key(secret: bytes, email: str) -> str:
    """HMAC-SHA256 of the normalised email, hex-encoded."""
    return keyed_hash(secret, normalise_email(email))


def keyed_hash(secret: bytes, text: str) -> str:
    """HMAC-SHA256 of `text` under `secret`, hex-encoded."""
    mac = _keyed(secret).copy()
    mac.update(text.encode())
    return mac.hexdigest()


@lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    # Copying an HMAC already keyed skips hashing the padded key twice per supporter.
    return hmac.new(secret, digestmod=hashlib.sha256)
