"""The dossier PDF (fpdf2): a cover letter, then the rows in a table with page numbers;
every text goes through ScriptPdf, which finds the fonts for its scripts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf.enums import TextMode

from services.delivery.adapters.pdf_text import TextEncoder
from services.delivery.adapters.script_pdf import FontSet, FontsMissing, ScriptPdf
from services.delivery.domain.cover import CoverText

__all__ = ["DossierPdf", "FontSet", "FontsMissing"]
COLUMN_WIDTHS = (95.0, 25.0, 60.0)
MESSAGE_WIDTHS = (40.0, 20.0, 120.0)
ROW_HEIGHT = 5.5
NAME_LIMIT = 70


class DossierPdf(ScriptPdf):
    def __init__(self, fonts: FontSet, cover: CoverText, created_at: datetime, wide: bool):
        super().__init__(fonts)
        self.cover_text = cover
        self.wide = wide
        self.widths = MESSAGE_WIDTHS if wide else COLUMN_WIDTHS
        self.set_creation_date(created_at)
        self.set_title(cover.title)
        self.alias_nb_pages()
        self.set_auto_page_break(True, margin=18)
        self._encoder = TextEncoder()

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
            if self.wide:  # a message: may need any script too
                self._cell(name_width, _fit(name))
                self._cell(country_width, second)
                self._cell(0, _fit(third))
            else:
                self._signature_row(_fit(name), second, third)
            self.ln(ROW_HEIGHT)

    def _signature_row(self, name: str, country: str, signed_at: str) -> None:
        """`text` where it can: a seventh of `cell`'s cost (measured), and a 100,000-name
        dossier is 100,000 rows. A name Noto Sans draws alone (most) goes that way too;
        the others through `cell`, which takes the fonts of their scripts."""
        name_width, country_width, _ = self.widths
        x, baseline = self.get_x(), self.get_y() + ROW_HEIGHT * 0.66
        texts = [
            (x + name_width + 1, country),
            (x + name_width + country_width + 1, signed_at[:10]),  # the day
        ]
        if self.plain(name):
            texts.insert(0, (x + self.c_margin, name))
        else:
            self._cell(name_width, name)
        self._texts(baseline, texts)

    def _texts(self, baseline: float, texts: Sequence[tuple[float, str]]) -> None:
        """What `text` draws for each, in one write (adapters/pdf_text.py); only in the
        state in which `text` writes nothing else (fill mode, no underline, no colour
        change, the font already set on the page), else through `text` itself."""
        if not self._plain_state():  # `text` sets the font on the page, if that is all
            x, text = texts[0]
            self.text(x, baseline, text)
            texts = texts[1:]
        font = self.current_font
        if not self._plain_state() or font is None:
            for x, text in texts:
                self.text(x, baseline, text)
            return
        y = (self.h - baseline) * self.k
        k, encode = self.k, self._encoder.encode
        self._out(
            " ".join(f"BT {x * k:.2f} {y:.2f} Td {encode(font, text)} ET" for x, text in texts)
        )

    def _plain_state(self) -> bool:
        return (
            self.current_font_is_set_on_page
            and self.text_mode == TextMode.FILL
            and not (self.underline or self.strikethrough or self._record_text_quad_points)
            and self.fill_color == self.text_color
        )

    def _cell(self, width: float, text: str) -> None:
        self._draw(text, lambda t: self.cell(width, ROW_HEIGHT, t))

    def save(self, path: Path) -> None:
        self.output(str(path))


def _fit(text: str) -> str:
    """Keep a cell on its line; the CSV has every name in full."""
    flat = " ".join(text.split())
    return flat if len(flat) <= NAME_LIMIT else flat[: NAME_LIMIT - 1] + "…"
