"""Which installed font draws a character: the ranking of font files and which characters
need shaping or no glyph at all (no fonts needed: the reading of real fonts is tested in
tests/integration/delivery/test_pdf_scripts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.delivery.adapters.fonts import FontCoverage, needs_no_glyph, needs_shaping, rank

pytestmark = pytest.mark.unit


def test_noto_sans_first_then_serif_then_other_noto_then_the_rest() -> None:
    files = [
        "dejavu/DejaVuSansCondensed.ttf",
        "droid/DroidSansFallbackFull.ttf",
        "noto/NotoSerifTibetan-Regular.ttf",
        "noto/NotoSansTamilSupplement-Regular.ttf",
        "noto/NotoColorEmoji.ttf",
        "noto/NotoSansTamil-Regular.ttf",
        "dejavu/DejaVuSans.ttf",
        "noto/NotoNaskhArabic-Regular.ttf",
        "noto/NotoSansArabic-Regular.ttf",
    ]
    assert [Path(f).name for f in sorted(map(Path, files), key=rank)] == [
        "NotoSansTamil-Regular.ttf",
        "NotoSansArabic-Regular.ttf",
        "NotoSansTamilSupplement-Regular.ttf",
        "NotoSerifTibetan-Regular.ttf",
        "NotoColorEmoji.ttf",
        "NotoNaskhArabic-Regular.ttf",
        "DejaVuSans.ttf",
        "DejaVuSansCondensed.ttf",
        "DroidSansFallbackFull.ttf",
    ]


@pytest.mark.parametrize(
    ("char", "shaped"),
    [
        ("\u17bb", True),  # Khmer vowel sign U
        ("\u1031", True),  # Myanmar vowel sign E (drawn before its consonant)
        ("\u094d", True),  # Devanagari virama
        ("\u0645", True),  # Arabic letter meem (joins its neighbours)
        ("\u05e9", True),  # Hebrew shin (right to left)
        ("\u0301", True),  # combining acute accent
        ("é", False),
        ("Ж", False),
        ("王", False),
        ("김", False),
    ],
)
def test_marks_and_right_to_left_letters_need_shaping(char: str, shaped: bool) -> None:
    assert needs_shaping(char) is shaped


@pytest.mark.parametrize(
    ("char", "invisible"),
    [(" ", True), ("\u200d", True), ("\u200f", True), ("\ufe0f", True), ("a", False)],
)
def test_invisible_characters_need_no_glyph(char: str, invisible: bool) -> None:
    assert needs_no_glyph(char) is invisible


def test_a_character_no_font_has() -> None:
    fonts = FontCoverage((Path("a.ttf"), Path("b.ttf")), {ord("x"): 1})
    assert (fonts.font_for("x"), fonts.font_for("y")) == (Path("b.ttf"), None)
