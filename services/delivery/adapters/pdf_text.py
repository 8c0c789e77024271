"""Texts written into a page as fpdf2's `FPDF.text` writes them (the same operators), in
one write per row instead of one call each: a 100,000-signature dossier draws 300,000
texts, and `text`'s own cost per call (its checks, and encoding every character through
the font's subset) was most of the PDF's render time. Each character's code in the
font's subset is looked up once per document: the subset gives a character the same code
every time it is asked."""

from __future__ import annotations

from typing import Any


class TextEncoder:
    """What `font.encode_text(text)` returns (the text shown with its font's subset codes,
    as a PDF string and its Tj), for the fonts fpdf2 embeds as Unicode TrueType."""

    def __init__(self) -> None:
        self._codes: dict[int, dict[str, str]] = {}  # by the font's id: fonts live as long

    def encode(self, font: Any, text: str) -> str:
        if getattr(font, "is_symbol", False):  # its characters are remapped first
            encoded: str = font.encode_text(text)
            return encoded
        codes = self._codes.setdefault(id(font), {})
        try:
            mapped = "".join([codes[char] for char in text])
        except KeyError:
            for char in text:
                if char not in codes:
                    code = font.subset.pick(ord(char))  # None: the font lacks it
                    codes[char] = "" if code is None else chr(code)
            mapped = "".join([codes[char] for char in text])
        return f"({font.escape_text(mapped)}) Tj"
