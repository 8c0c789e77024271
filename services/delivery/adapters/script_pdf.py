"""A PDF that draws text in any script the installed fonts cover: Noto Sans first; any
character it lacks with the installed font that has it (adapters/fonts.py), embedded as a
subset on first use, and shaped with HarfBuzz when the text has marks or right-to-left
letters. Shaping is toggled per text, because shaping every text triples the render time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from services.delivery.adapters.fonts import (
    FontCoverage,
    coverage,
    needs_no_glyph,
    needs_shaping,
)

MAIN_FONT = "noto/NotoSans-Regular.ttf"
BOLD_FONT = "noto/NotoSans-Bold.ttf"
# fpdf2 names missing glyphs (letters of supporters' names) in its warnings, and fontTools
# chatters about font tables while subsetting: neither belongs in the service's logs. Names
# no font covers are counted by the renderer instead (without the name).
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


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


class ScriptPdf(FPDF):
    def __init__(self, fonts: FontSet) -> None:
        super().__init__(format="A4")
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

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        """The font chosen for this character by the installed fonts' coverage (added by
        `_draw` before the text is drawn), instead of fpdf2's first-in-list."""
        path = self.covered.font_for(char)
        key = self.extra[self.text_shaping is not None].get(path) if path else None
        return None if key is None else key.lower()

    def plain(self, text: str) -> bool:
        """Noto Sans alone draws it, unshaped: most names."""
        return text.isascii() or (
            all(ord(c) in self.main_chars for c in text)
            and not any(needs_shaping(c) for c in text if not c.isascii())
        )

    def _draw(self, text: str, draw: Callable[[str], object]) -> None:
        """Draw with Noto Sans alone when it has every character (most names: the fast
        path); else with the fonts that have the others, shaped when the script needs it."""
        if self.plain(text):
            draw(text)
            return
        others = {c for c in text if ord(c) not in self.main_chars}
        shaped = any(needs_shaping(c) for c in text if not c.isascii())
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
