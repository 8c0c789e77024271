"""Zero-width joiners in names and messages: real names that need them pass, every other
use of them (and every bidi control) is refused (issue 9, item 9)."""

from __future__ import annotations

import pytest

from services.intake.domain import text

pytestmark = pytest.mark.unit

ZWNJ, ZWJ = "\u200c", "\u200d"

NAMES_WITH_JOINERS = {
    # Persian: the parts of a compound name separated by a ZWNJ.
    "Mehrdad": f"مهر{ZWNJ}داد",
    "Alireza": f"علی{ZWNJ}رضا",
    "Mehrangiz": f"مهر{ZWNJ}انگیز",
    "Forough Farrokhzad": f"فروغ فرخ{ZWNJ}زاد",
    "Mohammad-Hossein": f"محمد{ZWNJ}حسین",
    # Urdu, with a vowel mark before the ZWNJ.
    "Nasrullah (vowelled)": f"نصرُ{ZWNJ}اللہ",
    # Sinhala: the ශ්‍රී of Sri (virama + ZWJ + ra).
    "Sri Lal": f"ශ්{ZWJ}රී ලාල්",
    # Malayalam in the older encoding: chillu letters as consonant + virama + ZWJ.
    "Arjun": f"അര്{ZWJ}ജുന്{ZWJ}",
    "Jayan": f"ജയന്{ZWJ}",
    "Arjun Jayan": f"അര്{ZWJ}ജുന്{ZWJ} ജയന്{ZWJ}",
    # Bengali ra-phala: ra + ZWJ + virama + ya (Rachel).
    "Rachel": f"র{ZWJ}্যাচেল",
    # Devanagari: a half form and an explicit virama, chosen with ZWJ / ZWNJ.
    "Lakshmi (half form)": f"लक्{ZWJ}ष्मी",
    "Lakshmi (explicit virama)": f"लक्{ZWNJ}ष्मी",
    # Emoji ZWJ sequences, with variation selectors and skin tones inside them.
    "family": f"Awa 👩{ZWJ}👩{ZWJ}👧",
    "rainbow flag": f"Sam 🏳\ufe0f{ZWJ}🌈",
    "technologist": f"Dev 👩🏽{ZWJ}💻",
    "heart on fire": f"Jo ❤\ufe0f{ZWJ}🔥",
}


@pytest.mark.parametrize("name", NAMES_WITH_JOINERS.values(), ids=NAMES_WITH_JOINERS.keys())
def test_real_names_with_joiners_pass(name: str) -> None:
    assert text.check_name(name) == name


def test_a_persian_message_with_joiners_passes() -> None:
    message = f"برای آزادی شما می{ZWNJ}نویسم.\nبا مهر، مهر{ZWNJ}داد"  # noqa: RUF001
    assert text.check_text(message, allow_line_breaks=True) == message


REFUSED = {
    "ZWNJ in a Latin word": f"Ad{ZWNJ}min",
    "ZWJ in a Latin word": f"Ad{ZWJ}min",
    "ZWNJ splitting a link": f"Bob spam.c{ZWNJ}om",
    "ZWNJ at a word's start": f"{ZWNJ}مهرداد",
    "ZWNJ at a word's end": f"مهرداد{ZWNJ}",
    "ZWNJ before a space": f"مهر{ZWNJ} داد",
    "two ZWNJ": f"مهر{ZWNJ}{ZWNJ}داد",
    "ZWNJ from Arabic into Latin": f"مهر{ZWNJ}dad",
    "ZWNJ after a virama at a word's end": f"क्{ZWNJ}",
    "ZWJ between a letter and an emoji": f"Sam{ZWJ}🌈",
    "ZWJ ending an emoji": f"Sam 👩{ZWJ}",
    "ZWJ in an Arabic word": f"مهر{ZWJ}داد",
}


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_joiners_outside_the_words_that_use_them_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="control or invisible"):
        text.check_name(name)


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_bidi_overrides_and_isolates_are_refused_even_inside_a_persian_name(control: str) -> None:
    named = f"U\\+{ord(control):04X}"
    with pytest.raises(ValueError, match=named):
        text.check_name(f"مهر{ZWNJ}داد {control}Ali")
    with pytest.raises(ValueError, match=named):
        text.check_text(f"Awa {control}Diallo", allow_line_breaks=True)
