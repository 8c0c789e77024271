"""Rules for free text that supporters send: normalised to NFC, no invisible or control
characters (they hide content from moderators and break CSV/PDF dossiers), and names that
cannot be mistaken for spreadsheet formulas or carry links into a target's dossier."""

from __future__ import annotations

import re
import unicodedata

from pydantic_core import PydanticCustomError

from services.intake.domain.joiners import JOINERS, joiner_in_word

# Zero-width and bidirectional-override characters: invisible, so they can disguise text.
# (The joiners U+200C/U+200D among them pass where they are part of a word: joiners.py.)
_INVISIBLE = frozenset(
    "\u00ad\u061c\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u3164\ufeff\uffa0"
)
_MESSAGE_WHITESPACE = frozenset("\n\r\t")
# Controls, format characters, surrogates, private use, unassigned, and the Unicode line
# and paragraph separators (they break lines in CSV readers that ignore them elsewhere).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Cells starting with these are evaluated by spreadsheet programs (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@")
_URL = re.compile(
    r"(?i)(?:[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+\.(?:com|org|net|info|io|ly|me|ru|cn|xyz"
    r"|top|biz|co|tk|app|site|online|link|click)\b)"
)


def invalid(code: str, message: str) -> PydanticCustomError:
    """A validation failure with its stable `code` (what frontends translate) and its
    English `message`; the code is the error's type, so it reaches the field list as is."""
    return PydanticCustomError(code, message)  # no context: the message is taken as is


def normalise(text: str) -> str:
    """NFC form, surrounding whitespace removed."""
    return unicodedata.normalize("NFC", text).strip()


# Invisible characters that str.isprintable() lets through (Hangul fillers).
_PRINTABLE_INVISIBLE = re.compile("[\u115f\u1160\u3164\uffa0]")


def forbidden_character(text: str, allow_line_breaks: bool = False) -> str | None:
    """Describe the first control or invisible character in `text`, or None."""
    plain = (
        text.replace("\n", "").replace("\r", "").replace("\t", "") if allow_line_breaks else text
    )
    if plain.isprintable() and (plain.isascii() or not _PRINTABLE_INVISIBLE.search(plain)):
        return None  # the common case, checked in C; the loop below names the culprit
    for pos, char in enumerate(text):
        if allow_line_breaks and char in _MESSAGE_WHITESPACE:
            continue
        if char in JOINERS and joiner_in_word(text, pos):
            continue
        category = unicodedata.category(char)
        if char in _INVISIBLE or category in _FORBIDDEN_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def check_text(text: str, allow_line_breaks: bool = False) -> str:
    """Normalised `text`, or ValueError naming the offending character."""
    text = normalise(text)
    bad = forbidden_character(text, allow_line_breaks)
    if bad:
        raise invalid("invisible_character", f"contains a control or invisible character ({bad})")
    return text


def check_name(name: str) -> str:
    """A person's name as it may appear in a dossier handed to an authority."""
    name = check_text(name)
    if not name:
        raise invalid("blank", "must not be blank")
    if name.startswith(_FORMULA_STARTS):
        raise invalid("formula_start", "must not start with =, +, - or @")
    # Every form _URL finds holds a "." or "://": most names hold neither, and the search
    # itself cost two thirds of this check (1.3 µs per batch action).
    if ("." in name or "://" in name) and _URL.search(name):
        raise invalid("web_address", "must not contain a web address")
    return name
