"""The dossier PDF (fpdf2): a cover letter, then the rows in a table with page numbers.
Fonts are embedded as subsets. Characters Noto Sans lacks are drawn, one by one, with the
installed font that has them (adapters/fonts.py), added to the PDF on first use."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from services.delivery.adapters.fonts import (
    FontCoverage,
    coverage,
    needs_no_glyph,
    needs_shaping,
)
from services.delivery.domain.cover import CoverText

MAIN_FONT = "noto/NotoSans-Regular.ttf"
BOLD_FONT = "noto/NotoSans-Bold.ttf"
# fpdf2 names missing glyphs (letters of supporters' names) in its warnings, and fontTools
# chatters about font tables while subsetting: neither belongs in the service's logs. Names
# no font covers are counted by the renderer instead (without the name).
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
COLUMN_WIDTHS = (95.0, 25.0, 60.0)
MESSAGE_WIDTHS = (40.0, 20.0, 120.0)
ROW_HEIGHT = 5.5
NAME_LIMIT = 70


class FontsMissing(Exception):
    pass


@dataclass(frozen=True)
class FontSet:
    main: Path
    bold: Path
    font_dir: Path

    @classmethod
    def find(cls, font_dir: Path) -> FontSet:
        main, bold = font_dir / MAIN_FONT, font_dir / BOLD_FONT
        if not main.is_file() or not bold.is_file():
            raise FontsMissing(
                f"{main} not found: install the Debian package fonts-noto-core "
                "(deploy/local/debian-packages.txt) or set PLUME_DELIVERY_FONT_DIR"
            )
        return cls(main, bold, font_dir)

    def coverage(self) -> FontCoverage:
        return coverage(self.font_dir)

    def warm_up(self) -> None:
        """Scan the installed fonts in the background, so the first dossier does not wait."""
        threading.Thread(target=self.coverage, name="font-scan", daemon=True).start()


class DossierPdf(FPDF):
    def __init__(self, fonts: FontSet, cover: CoverText, created_at: datetime, wide: bool):
        super().__init__(format="A4")
        self.cover_text = cover
        self.wide = wide
        self.widths = MESSAGE_WIDTHS if wide else COLUMN_WIDTHS
        self.set_creation_date(created_at)
        self.set_title(cover.title)
        self.font_set = fonts
        self.covered = fonts.coverage()
        self.unreadable = 0  # texts with a character no installed font has
        # Shaped and plain text each get their own copy of every font (the shaped ones on
        # first need): fpdf2 maps glyphs differently in the two modes, and one font object
        # used in both garbles text.
        self.family = {False: "main", True: "shaped"}
        self.extra: dict[bool, dict[Path, str]] = {False: {}, True: {}}
        self.add_font("main", "", str(fonts.main))
        self.add_font("main", "B", str(fonts.bold))
        self.main_chars = frozenset(self.fonts["main"].cmap)  # type: ignore[union-attr]
        self.set_text_shaping(True)
        self.shaping = self.text_shaping
        self.set_text_shaping(False)
        self.alias_nb_pages()
        self.set_auto_page_break(True, margin=18)

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        """The font chosen for this character by the installed fonts' coverage (added by
        `_draw` before the text is drawn), instead of fpdf2's first-in-list."""
        path = self.covered.font_for(char)
        key = self.extra[self.text_shaping is not None].get(path) if path else None
        return None if key is None else key.lower()

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("main", "", 8)
        label = self.cover_text.page_label.format(n=self.page_no()) + " / {nb}"
        self.cell(0, 8, label, align="C")

    def write_cover(self, further_line: str | None) -> None:
        c = self.cover_text
        self.add_page()
        self.set_font("main", "", 10)
        for line in c.sender:
            self._para(line, 5)
        if c.date:
            self._para(c.date, 5, align="R")
        self.ln(6)
        for line in c.addressee:
            self._para(line, 5)
        self.ln(6)
        self.set_font("main", "B", 14)
        self._para(c.title, 8)
        self.ln(3)
        self.set_font("main", "", 11)
        for paragraph in (c.greeting, c.body, further_line, c.countries):
            if paragraph:
                self._para(paragraph)
                self.ln(3)
        if c.demand:
            self.set_font("main", "B", 11)
            self._para(c.demand_heading)
            self.set_font("main", "", 11)
            self._para(c.demand)
            self.ln(3)
        self._para(c.closing)
        if c.signatory:
            self.ln(6)
            self._para(c.signatory)
        self.add_page()
        self._header_row()

    def _para(self, text: str, height: float = 6, align: str = "L") -> None:
        self._draw(
            text,
            lambda t: self.multi_cell(0, height, t, align=align, new_x="LMARGIN", new_y="NEXT"),
        )

    def _header_row(self) -> None:
        self.set_font("main", "B", 9)
        for width, title in zip(self.widths, self.cover_text.columns, strict=True):
            self._draw(title, functools.partial(self._title_cell, width))
        self.ln()
        self.set_font("main", "", 9)

    def _title_cell(self, width: float, title: str) -> None:
        self.cell(width, ROW_HEIGHT + 1, title, border="B")

    def add_rows(self, rows: Sequence[tuple[str, str, str]]) -> None:
        name_width, country_width, _ = self.widths
        for name, second, third in rows:
            if self.will_page_break(ROW_HEIGHT):
                self.add_page()
                self._header_row()
            self._cell(name_width, _fit(name))
            if self.wide:  # a message: may need any script too
                self._cell(country_width, second)
                self._cell(0, _fit(third))
            else:  # country code and date: ASCII, drawn the cheap way
                x, y = self.get_x(), self.get_y() + ROW_HEIGHT * 0.66
                self.text(x + 1, y, second)
                self.text(x + country_width + 1, y, third[:10])  # the day; CSV has the time
            self.ln(ROW_HEIGHT)

    def _cell(self, width: float, text: str) -> None:
        self._draw(text, lambda t: self.cell(width, ROW_HEIGHT, t))

    def _draw(self, text: str, draw: Callable[[str], object]) -> None:
        """Draw with Noto Sans alone when it has every character (most names: the fast
        path); else with the fonts that have the others, shaped when the script needs it."""
        if text.isascii():
            draw(text)
            return
        others = {c for c in text if ord(c) not in self.main_chars}
        shaped = any(needs_shaping(c) for c in text if not c.isascii())
        if not others and not shaped:
            draw(text)
            return
        text = self._cover_with_fonts(text, others, shaped)
        style, size = self.font_style, self.font_size_pt
        self.set_font(self._family(shaped), style, size)
        self.set_fallback_fonts(list(self.extra[shaped].values()), exact_match=False)
        self.text_shaping = self.shaping if shaped else None
        try:
            draw(text)
        finally:
            # No fallback fonts between such texts: fpdf2 then takes its fast path (no
            # per-character font lookup) for the Latin names that make up most rows.
            self.set_fallback_fonts([])
            self.text_shaping = None
            self.set_font("main", style, size)

    def _cover_with_fonts(self, text: str, others: set[str], shaped: bool) -> str:
        """Add the fonts these characters need; drop invisible ones no font has; count the
        text once if a visible character has no font at all."""
        unreadable = False
        for char in others:
            path = self.covered.font_for(char)
            if path is not None:
                self._font(path, shaped)
            elif needs_no_glyph(char):
                text = text.replace(char, "")
            else:
                unreadable = True
        self.unreadable += unreadable
        return text

    def _family(self, shaped: bool) -> str:
        family = self.family[shaped]
        if family.lower() not in self.fonts:
            self.add_font(family, "", str(self.font_set.main))
            self.add_font(family, "B", str(self.font_set.bold))
        return family

    def _font(self, path: Path, shaped: bool) -> str:
        added = self.extra[shaped]
        if path not in added:
            name = f"{'s' if shaped else 'p'}fb{len(added)}"
            self.add_font(name, "", str(path))
            added[path] = name
        return added[path]

    def save(self, path: Path) -> None:
        self.output(str(path))


def _fit(text: str) -> str:
    """Keep a cell on its line; the CSV has every name in full."""
    flat = " ".join(text.split())
    return flat if len(flat) <= NAME_LIMIT else flat[: NAME_LIMIT - 1] + "…"
