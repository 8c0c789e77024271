"""Decoding with msgspec where it gives pydantic's outcome, for the hot paths that read
JSON (delivery's records, intake's actions). msgspec is stricter than pydantic in most
ways, so what it refuses goes to pydantic, which accepts or refuses it with its own error.
Where msgspec would be *laxer*, or read another value, the text skips it: a caller's
differential test holds the two decoders to the same outcome."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

T = TypeVar("T")
# msgspec rounds a time's 7th fractional digit where pydantic drops it (1 µs apart). The
# pattern starts with a literal, which re finds fast; one starting with \d tried every
# byte and cost as much as msgspec's whole decoding.
_LONG_FRACTION = re.compile(rb"\.\d{7}")


def may_differ(raw: bytes, max_openings: int | None = None) -> bool:
    """True when msgspec might accept what pydantic refuses, or read another value: a time
    with more than microseconds, or (for a type that skips unknown fields) JSON nested
    deeper than pydantic takes (255; msgspec only past about a thousand), counted over the
    whole text, `max_openings` being more than any valid value has."""
    if max_openings is not None and _more_openings(raw, max_openings):
        return True
    return _LONG_FRACTION.search(raw) is not None


def _more_openings(raw: bytes, limit: int) -> bool:
    # Most texts are one flat object: two searches that find nothing past its first brace
    # cost a third of counting every bracket (twice the regular expression's time).
    if limit >= 1 and raw.find(b"[") < 0 and raw.find(b"{", 1) < 0:
        return False  # at most the one brace at its start
    return raw.count(b"[") + raw.count(b"{") > limit


def decode_or_none(decoder: msgspec.json.Decoder[T], raw: bytes) -> T | None:
    """`raw` decoded by msgspec, or None where it refuses it (pydantic then decides).
    Callers first ask `may_differ`."""
    try:
        # str first: msgspec does not check the UTF-8 of the fields it skips, pydantic does
        text = raw.decode()
    except UnicodeDecodeError:
        return None
    try:
        return decoder.decode(text)
    except msgspec.MsgspecError:  # stricter than pydantic: let pydantic decide
        return None
