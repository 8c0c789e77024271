"""Read a PDF as a viewer would: which glyph of which embedded font each text object shows,
and what text the font's ToUnicode map says that glyph stands for. A glyph is real when the
embedded font has an outline for it (not .notdef, not an empty box for a visible letter)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream, TextStringObject

HEX_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
HEX_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


@dataclass(frozen=True)
class Glyph:
    font: str
    text: str  # what ToUnicode says the glyph stands for
    real: bool


def _unicode_map(font: Any) -> dict[int, str]:
    if "/ToUnicode" not in font:
        return {}
    data = font["/ToUnicode"].get_object().get_data()
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in HEX_RANGE.findall(block):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in HEX_PAIR.findall(block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return mapping


class EmbeddedFont:
    def __init__(self, font: Any) -> None:
        self.unicode = _unicode_map(font)
        self.type3 = font["/Subtype"] == "/Type3"
        if self.type3:  # colour emoji: one drawing per code, named by the encoding
            self.name = "Type3"
            differences = font["/Encoding"]["/Differences"]
            self.names: dict[int, str] = {}
            code = 0
            for item in differences:
                if isinstance(item, int):
                    code = item
                else:
                    self.names[code], code = str(item)[1:], code + 1
            self.procs = font["/CharProcs"]
            return
        cid_font = font["/DescendantFonts"][0].get_object()
        descriptor = cid_font["/FontDescriptor"]
        self.name = str(font["/BaseFont"])
        self.ttf = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        to_gid = cid_font.get("/CIDToGIDMap")
        self.to_gid = None if to_gid is None or to_gid == "/Identity" else to_gid.get_data()

    def glyphs(self, raw: bytes) -> Iterator[Glyph]:
        if self.type3:
            for code in raw:
                name = self.names.get(code, ".notdef")
                real = name != ".notdef" and f"/{name}" in self.procs
                yield Glyph(self.name, self.unicode.get(code, ""), real)
            return
        for i in range(0, len(raw) - 1, 2):
            cid = int.from_bytes(raw[i : i + 2], "big")
            text = self.unicode.get(cid, "")
            yield Glyph(self.name, text, self._has_outline(cid) or text.isspace())

    def _has_outline(self, cid: int) -> bool:
        gid = cid if self.to_gid is None else int.from_bytes(self.to_gid[2 * cid : 2 * cid + 2])
        if gid == 0 or gid >= self.ttf["maxp"].numGlyphs:
            return False
        glyph = self.ttf["glyf"][self.ttf.getGlyphName(gid)]
        return bool(glyph.numberOfContours)  # -1: composite, > 0: contours


def _raw(operand: Any) -> bytes:
    """The string's bytes as written: pypdf decodes 2-byte codes as UTF-16 text and gives
    them back with a byte-order mark that was never in the file."""
    if isinstance(operand, TextStringObject):
        raw = operand.get_original_bytes()
        return raw.removeprefix(operand.utf16_bom) if operand.autodetect_utf16 else raw
    return bytes(operand)


def text_objects(path: Path) -> Iterator[list[Glyph]]:
    """The glyphs of each BT … ET text object (fpdf2 draws each cell as one), page by page."""
    reader = PdfReader(path)
    for page in reader.pages:
        resources: Any = page["/Resources"]
        resources = resources["/Font"]
        fonts = {name: EmbeddedFont(ref.get_object()) for name, ref in resources.items()}
        current: EmbeddedFont | None = None
        saved: list[EmbeddedFont | None] = []  # the font is part of the state q … Q keeps
        shown: list[Glyph] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                saved.append(current)
            elif operator == b"Q":
                current = saved.pop()
            elif operator == b"Tf":
                current = fonts[operands[0]]
            elif operator == b"Tj" and current is not None:
                shown.extend(current.glyphs(_raw(operands[0])))
            elif operator == b"TJ" and current is not None:
                for item in operands[0]:
                    if not isinstance(item, (int, float)):
                        shown.extend(current.glyphs(_raw(item)))
            elif operator == b"ET":
                yield shown
                shown = []
