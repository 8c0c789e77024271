"""The dossier PDF read as a reader's viewer would: names in 30 scripts, each drawn with real
glyphs of an embedded font (no .notdef, no empty box), and pages rendered to PNG under
.plume/screenshots/ so that a person can look. Needs the fonts and poppler-utils that
`make up` installs (deploy/local/debian-packages.txt), not Kafka or PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fpdf import FPDF

from services.delivery.adapters.pdf import DossierPdf, FontSet
from services.delivery.domain.cover import cover_text, facts_from_snapshots
from services.delivery.settings import DeliverySettings
from tests.integration.delivery.pdf_glyphs import Glyph, text_objects

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / ".plume" / "screenshots"
NAMES = {
    "Khmer": "សុខ ដារ៉ា",
    "Myanmar": "အောင်ဆန်း စုကြည်",
    "Lao": "ສົມພອນ ແກ້ວມະນີ",
    "Tibetan": "བཀྲ་ཤིས་བདེ་ལེགས",
    "Sinhala": "සුනිල් පෙරේරා",
    "Thai": "สมชาย ใจดี",
    "Ethiopic": "አበበ ቢቂላ",
    "Armenian": "Արամ Խաչատրյան",
    "Georgian": "გიორგი ბერიძე",
    "Devanagari": "राम शर्मा",
    "Bengali": "রবীন্দ্রনাথ ঠাকুর",
    "Gurmukhi": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "Gujarati": "ભાવેશ પટેલ",
    "Oriya": "ପ୍ରିୟଙ୍କା ଦାସ",
    "Tamil": "தமிழ்செல்வி முருகன்",
    "Telugu": "వెంకట రావు",
    "Kannada": "ಕೃಷ್ಣ ಮೂರ್ತಿ",
    "Malayalam": "അനിൽ കുമാർ",
    "Arabic": "محمد أحمد",
    "Hebrew": "שרה כהן",
    "Thaana": "އަހުމަދު",
    "Syriac": "ܐܦܪܝܡ",
    "N'Ko": "ߛߎ߬ߟߊ߬ߡߊ߲߬",
    "Tifinagh": "ⵜⴰⵙⵏⵉⵎⵉ",
    "Cherokee": "ᏌᏊ ᎤᏍᏗ",
    "Han": "王小明",
    "Japanese": "田中 さくら",
    "Hangul": "김민수",
    "Cyrillic": "Иван Петров",
    "Greek": "Γιώργος Παπαδόπουλος",
    "Latin (Vietnamese)": "Nguyễn Thị Ánh Tuyết",
    "Latin (combining marks)": "Jose\u0301 Nin\u0303o Ǫ\u0301sk",
    "Latin (extended)": "Łukasz Żółć · Zoë Ångström-Øster · Şükrü Ğ",
    "Emoji": "Ana 🌻 Silva",
}
NO_FONT = "Ghost \U0010fffd"  # a private-use character no installed font draws


def fonts() -> FontSet:
    return FontSet.find(DeliverySettings().font_dir)


def render(path: Path, names: list[str]) -> DossierPdf:
    target = {"id": "kh", "name": "Prime Minister of Cambodia", "country": "KH", "language": "en"}
    case = {
        "name": "Mother Nature Cambodia",
        "request": {"en": "Release the members of Mother Nature Cambodia."},
        "sender": {"name": "Amnesty International", "address": ["London WC1X 0DW"]},
    }
    by_country = {"KH": len(names) - 2, "MM": 1, "FR": 1}
    facts = facts_from_snapshots(target, case, len(names), by_country, (2, 1), date(2025, 12, 10))
    cover = cover_text(facts)
    pdf = DossierPdf(fonts(), cover, datetime(2025, 12, 10, tzinfo=UTC), wide=False)
    pdf.write_cover(cover.further)
    pdf.add_rows([(name, "KH", "2025-12-10T09:00:00Z") for name in names])
    pdf.save(path)
    return pdf


def letters(text: str) -> Counter[str]:
    return Counter(c for c in unicodedata.normalize("NFC", text) if not c.isspace())


def drawn(objects: list[list[Glyph]], name: str) -> list[Glyph]:
    """The text object that shows this name (in any glyph order: right-to-left and
    reordered vowel signs come out in visual order)."""
    wanted = letters(name)
    found = [o for o in objects if letters("".join(g.text for g in o)) == wanted]
    assert found, f"no text object shows {name!r}"
    return found[0]


def test_every_name_is_drawn_with_real_embedded_glyphs(tmp_path: Path) -> None:
    path = tmp_path / "dossier.pdf"
    pdf = render(path, list(NAMES.values()))
    assert pdf.unreadable == 0
    objects = list(text_objects(path))
    for script, name in NAMES.items():
        missing = [g for g in drawn(objects, name) if not g.real]
        assert not missing, f"{script}: {name!r} has glyphs without outline: {missing}"
    assert all(g.real for o in objects for g in o)  # the cover and the table headers too
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = listing.stdout.splitlines()[2:]
    assert len(rows) > 20 and all(" yes " in row for row in rows), listing.stdout


def test_the_check_sees_a_name_drawn_without_its_font(tmp_path: Path) -> None:
    """The reader above is not fooled: Khmer drawn with Noto Sans alone (as dossiers were
    before) comes out as .notdef boxes."""
    path = tmp_path / "blank.pdf"
    plain = FPDF()
    plain.add_page()
    plain.add_font("main", "", str(fonts().main))
    plain.set_font("main", "", 12)
    plain.cell(0, 10, NAMES["Khmer"])
    plain.output(str(path))
    [shown] = [o for o in text_objects(path) if o]
    assert shown and not any(g.real for g in shown if not g.text.isspace())


def test_a_name_no_font_covers_is_counted_and_the_rest_drawn(tmp_path: Path) -> None:
    path = tmp_path / "dossier.pdf"
    pdf = render(path, [NO_FONT, NAMES["Khmer"], NAMES["Hangul"]])
    assert pdf.unreadable == 1
    objects = list(text_objects(path))
    assert all(g.real for g in drawn(objects, NAMES["Khmer"]))
    assert all(g.real for g in drawn(objects, NAMES["Hangul"]))


def test_pages_rendered_to_png_for_a_person_to_look_at(tmp_path: Path) -> None:
    path = tmp_path / "dossier.pdf"
    render(path, list(NAMES.values()))
    subprocess.run(
        ["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "2", str(path), str(tmp_path / "p")],
        check=True,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page, label in ((1, "cover"), (2, "names")):
        png = tmp_path / f"p-{page}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000  # text on it, not a blank page
        shutil.copy(png, SCREENSHOTS / f"dossier-scripts-{page}-{label}.png")
