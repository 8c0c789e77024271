"""When an invisible joiner is spelling rather than disguise. The zero-width non-joiner
(U+200C) and joiner (U+200D) are part of how some scripts write words: Persian separates
the parts of a name like مهر‌داد with a ZWNJ, Brahmic scripts choose between a conjunct,
a half form and a visible virama with them (Sinhala ශ්‍රී, Malayalam ജയന്‍), and emoji
sequences such as 👩‍👩‍👧 are glued by ZWJ. Anywhere else they only hide things (a link
split so that a filter misses it, a name padded to look like another), so a joiner passes
only inside a word of such a script, between the characters it joins."""

from __future__ import annotations

import unicodedata

from idna import intranges_contain
from idna.idnadata import joining_types

ZWNJ = "\u200c"
ZWJ = "\u200d"
JOINERS = frozenset({ZWNJ, ZWJ})

_VIRAMA = 9  # the canonical combining class of viramas (Brahmic scripts only)
# Unicode's Joining_Type (the data IDNA's CONTEXTJ rule uses): letters of the cursive
# scripts (Arabic, Syriac, N'Ko, Mongolian, …) join left, right, both or by causing;
# "T" (transparent) is for marks, which are skipped by position instead.
_CURSIVE = tuple(ranges for kind, ranges in joining_types.items() if kind != "T")
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)  # skin tones, between an emoji and its ZWJ


def joiner_in_word(text: str, pos: int) -> bool:
    """Whether the joiner at `text[pos]` stands where its script uses it."""
    joiner = text[pos]
    if joiner == ZWJ and _in_emoji_sequence(text, pos):
        return True
    before, after = _base(text, pos, -1), _base(text, pos, +1)
    if before is None or not _is_letter(before):
        return False
    if _next_to_virama(text, pos):
        if joiner == ZWJ and _is_virama(text[pos - 1]):
            # It may end a word: Malayalam writes its chillu letters as consonant +
            # virama + ZWJ (ജയന്‍ Kumar). Any other joiner needs a letter after it.
            return True
        return after is not None and _is_letter(after)
    return (
        joiner == ZWNJ
        and after is not None
        and _is_cursive_letter(before)
        and _is_cursive_letter(after)
    )


def _base(text: str, pos: int, step: int) -> str | None:
    """The nearest character from `pos` in direction `step` that is not a combining mark
    (a joiner may sit between a letter's vowel signs and the next letter), or None at the
    edge of the word."""
    pos += step
    while 0 <= pos < len(text) and unicodedata.category(text[pos]).startswith("M"):
        pos += step
    return text[pos] if 0 <= pos < len(text) else None


def _next_to_virama(text: str, pos: int) -> bool:
    # Before the virama too: Bengali writes ra + ZWJ + virama + ya for the ra-phala (র‍্য).
    return (pos > 0 and _is_virama(text[pos - 1])) or (
        pos + 1 < len(text) and _is_virama(text[pos + 1])
    )


def _is_virama(char: str) -> bool:
    return unicodedata.combining(char) == _VIRAMA


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _is_cursive_letter(char: str) -> bool:
    return _is_letter(char) and any(intranges_contain(ord(char), r) for r in _CURSIVE)


def _in_emoji_sequence(text: str, pos: int) -> bool:
    """Between two emoji, the first perhaps with its variation selector or skin tone
    (👩🏽‍💻, 🏳️‍🌈)."""
    before = pos - 1
    while before >= 0 and (
        unicodedata.category(text[before]).startswith("M") or ord(text[before]) in _EMOJI_MODIFIERS
    ):
        before -= 1
    return (
        before >= 0 and pos + 1 < len(text) and _is_emoji(text[before]) and _is_emoji(text[pos + 1])
    )


def _is_emoji(char: str) -> bool:
    # Emoji are "other symbols" (So); Extended_Pictographic is not in unicodedata, and
    # the difference (a few dingbats and arrows) joins nothing that could hide text.
    return unicodedata.category(char) == "So"
