"""Which installed font draws each character. Every regular upright font under the font
directory is read once per process (its cmap, through fontTools); for each character the
best-ranked font that has it wins, so the list of scripts a dossier can show follows what is
installed (fonts-noto-core, fonts-noto-color-emoji, ...) instead of a hand-kept list."""

from __future__ import annotations

import functools
import logging
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

FONT_SUFFIXES = (".ttf", ".otf")
BOLD_OR_ITALIC = 0b100001  # OS/2 fsSelection bits 5 (bold) and 0 (italic)
REGULAR_WEIGHT = 400
# Unicode (3,10 / 0,4) before BMP-only (3,1 / 0,3) subtables: the former has every plane.
CMAP_PREFERENCE = ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3))


@dataclass(frozen=True)
class FontCoverage:
    fonts: tuple[Path, ...]  # best first
    by_char: dict[int, int]  # code point -> index in fonts of the best font that has it

    def font_for(self, char: str) -> Path | None:
        index = self.by_char.get(ord(char))
        return None if index is None else self.fonts[index]


def rank(path: Path) -> tuple[int, int, str]:
    """Noto Sans faces first (the dossier's own look), then Noto Serif, other Noto fonts,
    then anything else; within a tier the plainest family (shortest name: NotoSansTamil
    before NotoSansTamilSupplement, DejaVuSans before DejaVuSansCondensed)."""
    stem = path.stem.split("-")[0]
    tiers = ("NotoSans", "NotoSerif", "Noto")
    tier = next((i for i, prefix in enumerate(tiers) if stem.startswith(prefix)), len(tiers))
    return tier, len(stem), stem


def regular_cmap(path: Path) -> set[int] | None:
    """The code points of a regular upright font, or None for bold/italic/unreadable ones."""
    try:
        font = TTFont(path, lazy=True)
    except (TTLibError, OSError):
        return None
    try:
        if "OS/2" in font:
            os2 = font["OS/2"]
            if os2.usWeightClass != REGULAR_WEIGHT or os2.fsSelection & BOLD_OR_ITALIC:
                return None
        # Code points are all we need: numbered glyph names spare fontTools reading the
        # real ones (the post table), which makes the scan three times faster.
        font.setGlyphOrder([f"g{i}" for i in range(font["maxp"].numGlyphs)])
        table = font["cmap"]
        for platform, encoding in CMAP_PREFERENCE:
            sub = table.getcmap(platform, encoding)
            if sub is not None:
                return set(sub.cmap)
        return None
    finally:
        font.close()


log = logging.getLogger(__name__)
_scan_lock = threading.Lock()


@functools.cache
def _scan(font_dir: Path) -> FontCoverage:
    started = time.perf_counter()
    paths = sorted((p for p in font_dir.rglob("*") if p.suffix.lower() in FONT_SUFFIXES), key=rank)
    fonts: list[Path] = []
    by_char: dict[int, int] = {}
    for path in paths:
        chars = regular_cmap(path)
        if not chars:
            continue
        index = len(fonts)
        fonts.append(path)
        for code in chars:
            by_char.setdefault(code, index)
    log.info(
        "fonts: %d regular fonts under %s draw %d characters (read in %.1f s)",
        len(fonts),
        font_dir,
        len(by_char),
        time.perf_counter() - started,
    )
    return FontCoverage(tuple(fonts), by_char)


def coverage(font_dir: Path) -> FontCoverage:
    """Scanned once per process and directory (a few seconds); the lock makes a warm-up
    thread and a first render share one scan instead of doing two."""
    with _scan_lock:
        return _scan(font_dir)


def needs_no_glyph(char: str) -> bool:
    """Spaces, controls and format characters (joiners, direction marks) and variation
    selectors: invisible, so a font lacking them leaves nothing unreadable."""
    category = unicodedata.category(char)
    return category in ("Zs", "Cc", "Cf") or "VARIATION SELECTOR" in unicodedata.name(char, "")


def needs_shaping(char: str) -> bool:
    """Marks (Indic, Khmer, Myanmar, Thai vowel signs, stacked diacritics) and right-to-left
    letters only come out right through the shaping engine."""
    return unicodedata.category(char)[0] == "M" or unicodedata.bidirectional(char) in ("R", "AL")
