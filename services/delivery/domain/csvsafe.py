"""Cells a spreadsheet would run as a formula are made plain text (OWASP CSV injection)."""

from __future__ import annotations

import string
import unicodedata

FORMULA_STARTS = frozenset("=+-@\t\r\n")
# Signs that NFKC does not fold into one of the above but that spreadsheets read alike.
LOOKALIKE_STARTS = frozenset("\u2212")  # MINUS SIGN
# Leading characters a spreadsheet may skip before it looks for a formula: spaces
# (ASCII, no-break, ideographic) and zero-width ones.
SKIPPED = " \u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"


def starts_a_formula(value: str) -> bool:
    """Whether the first character that counts is a formula sign, in ASCII or in any of
    its compatibility forms (full-width U+FF1D U+FF0B U+FF0D U+FF20, small U+FE66…:
    NFKC folds them)."""
    if value[:1] in FORMULA_STARTS:
        return True
    head = value.lstrip(SKIPPED)[:1]
    if not head or (head.isascii() and head not in FORMULA_STARTS):
        return False  # the fast path: nearly every name starts with a letter
    return head in LOOKALIKE_STARTS or unicodedata.normalize("NFKC", head)[:1] in FORMULA_STARTS


# A cell starting with one of these is plain text whatever follows: nearly every name, and
# every country. Tested first, it spares a million cells the whole rule (a tenth of the
# CSV's time).
PLAIN_STARTS = frozenset(string.ascii_letters + string.digits)


def safe_cell(value: str) -> str:
    if value[:1] in PLAIN_STARTS:
        return value
    return "'" + value if starts_a_formula(value) else value
