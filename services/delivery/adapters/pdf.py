"""The dossier PDF (fpdf2): a cover letter, then the rows in a table with page numbers.
Fonts are embedded as subsets; fallback fonts cover scripts the main font lacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from services.delivery.domain.cover import CoverText

MAIN_FONT = "noto/NotoSans-Regular.ttf"
BOLD_FONT = "noto/NotoSans-Bold.ttf"
# Tried in order for characters NotoSans lacks; those not installed are skipped.
FALLBACK_FONTS = (
    "noto/NotoSansArabic-Regular.ttf",
    "noto/NotoSansHebrew-Regular.ttf",
    "noto/NotoSansDevanagari-Regular.ttf",
    "noto/NotoSansBengali-Regular.ttf",
    "noto/NotoSansThai-Regular.ttf",
    "noto/NotoSansGeorgian-Regular.ttf",
    "noto/NotoSansArmenian-Regular.ttf",
    "noto/NotoSansEthiopic-Regular.ttf",
    "noto/NotoSansTamil-Regular.ttf",
    "droid/DroidSansFallbackFull.ttf",
    "nanum/NanumGothic.ttf",
)
# Scripts whose letters change shape with their neighbours (Arabic, Hebrew marks, Indic,
# Thai...): only names with such letters go through the (slower) shaping engine.
NEEDS_SHAPING = re.compile("[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\ufb1d-\ufefc]")
# fpdf2 names missing glyphs (letters of supporters' names) in its warnings, and fontTools
# chatters about font tables while subsetting: neither belongs in the service's logs.
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
    fallbacks: tuple[Path, ...]

    @classmethod
    def find(cls, font_dir: Path) -> FontSet:
        main, bold = font_dir / MAIN_FONT, font_dir / BOLD_FONT
        if not main.is_file() or not bold.is_file():
            raise FontsMissing(
                f"{main} not found: install the Debian package fonts-noto-core "
                "(deploy/local/debian-packages.txt) or set PLUME_DELIVERY_FONT_DIR"
            )
        found = tuple(p for p in (font_dir / f for f in FALLBACK_FONTS) if p.is_file())
        return cls(main, bold, found)


class DossierPdf(FPDF):
    def __init__(self, fonts: FontSet, cover: CoverText, created_at: datetime, wide: bool):
        super().__init__(format="A4")
        self.cover_text = cover
        self.wide = wide
        self.widths = MESSAGE_WIDTHS if wide else COLUMN_WIDTHS
        self.set_creation_date(created_at)
        self.set_title(cover.title)
        # Shaped and plain text each get their own copy of every font (added on the first
        # name that needs shaping): fpdf2 maps glyphs differently in the two modes, and one
        # font object used in both garbles text.
        self.font_set = fonts
        self.add_font("main", "", str(fonts.main))
        self.add_font("main", "B", str(fonts.bold))
        self.plain_fallbacks = self._add_fallbacks("fb", fonts.fallbacks)
        self.shaped_fallbacks: list[str] | None = None
        self.set_fallback_fonts(self.plain_fallbacks, exact_match=False)
        self.set_text_shaping(True)
        self.shaping = self.text_shaping
        self.set_text_shaping(False)
        self.alias_nb_pages()
        self.set_auto_page_break(True, margin=18)

    def _add_fallbacks(self, prefix: str, paths: tuple[Path, ...]) -> list[str]:
        names = []
        for i, path in enumerate(paths):
            self.add_font(f"{prefix}{i}", "", str(path))
            names.append(f"{prefix}{i}")
        return names

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("main", "", 8)
        label = self.cover_text.page_label.format(n=self.page_no()) + " / {nb}"
        self.cell(0, 8, label, align="C")

    def write_cover(self, further_line: str | None) -> None:
        c = self.cover_text
        self.add_page()
        self.set_font("main", "B", 16)
        self._para(c.title, 9)
        self.ln(4)
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
        self.add_page()
        self._header_row()

    def _para(self, text: str, height: float = 6) -> None:
        self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def _header_row(self) -> None:
        self.set_font("main", "B", 9)
        for width, title in zip(self.widths, self.cover_text.columns, strict=True):
            self.cell(width, ROW_HEIGHT + 1, title, border="B")
        self.ln()
        self.set_font("main", "", 9)

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
        if NEEDS_SHAPING.search(text):
            # Toggled per cell because shaping every cell would triple the render time.
            if self.shaped_fallbacks is None:
                self.add_font("shaped", "", str(self.font_set.main))
                self.shaped_fallbacks = self._add_fallbacks("sfb", self.font_set.fallbacks)
            self.set_font("shaped", "", 9)
            self.set_fallback_fonts(self.shaped_fallbacks, exact_match=False)
            self.text_shaping = self.shaping
            self.cell(width, ROW_HEIGHT, text)
            self.text_shaping = None
            self.set_fallback_fonts(self.plain_fallbacks, exact_match=False)
            self.set_font("main", "", 9)
        else:
            self.cell(width, ROW_HEIGHT, text)

    def save(self, path: Path) -> None:
        self.output(str(path))


def _fit(text: str) -> str:
    """Keep a cell on its line; the CSV has every name in full."""
    flat = " ".join(text.split())
    return flat if len(flat) <= NAME_LIMIT else flat[: NAME_LIMIT - 1] + "…"
