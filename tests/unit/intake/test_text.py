from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import text

pytestmark = pytest.mark.unit


def test_normalise_composes_to_nfc_and_trims() -> None:
    decomposed = "  Jose\u0301  "
    assert text.normalise(decomposed) == "Jos\u00e9"


@pytest.mark.parametrize(
    "value", ["a\u200bb", "a\u200db", "a\ufeffb", "a\u202eb", "a\x00b", "a\x1bb", "a\nb"]
)
def test_invisible_and_control_characters_are_refused_in_names(value: str) -> None:
    with pytest.raises(ValueError, match="control or invisible"):
        text.check_name(value)


def test_line_breaks_are_allowed_in_messages_only() -> None:
    assert text.check_text("line one\nline two\ttab", allow_line_breaks=True)
    with pytest.raises(ValueError):
        text.check_text("line one\nline two")
    with pytest.raises(ValueError):
        text.check_text("hidden\u200bjoin", allow_line_breaks=True)


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+33 6", "-1", "@SUM(A1)"])
def test_names_starting_like_a_formula_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must not start"):
        text.check_name(name)


@pytest.mark.parametrize(
    "name", ["Visit https://spam.example", "www.spam.net fan", "Bob spam.com", "ftp://x"]
)
def test_names_with_a_web_address_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="web address"):
        text.check_name(name)


@pytest.mark.parametrize(
    "name", ["Awa Diallo", "J.R.R. Tolkien", "Zoë O'Brien-Smith", "محمد", "李小龙", "Ana-María"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert text.check_name(name) == name


def test_blank_name_is_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        text.check_name("   ")


PIECES = ["a", "W", "x0", " ", "-", "@", ".", ":", "/", "://", "www.", "com", ".org", "\u3164"]


@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
def test_the_web_address_check_finds_what_the_pattern_finds(name: str) -> None:
    # check_name searches only names holding "." or "://" (the pattern's every form does)
    stripped = text.normalise(name)
    checked = (
        bool(stripped)
        and text.forbidden_character(stripped) is None
        and not stripped.startswith(("=", "+", "-", "@"))
    )
    try:
        text.check_name(name)
        refused_as_address = False
    except ValueError as refusal:
        refused_as_address = "web address" in str(refusal)
    assert refused_as_address == (checked and text._URL.search(stripped) is not None)
