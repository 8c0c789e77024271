"""The dossier's rows are written in one go per row (adapters/pdf_text.py) instead of
one `FPDF.text` call per text: the page must say exactly what `text` would have written.
Needs the fonts `make up` installs, not Kafka or PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from services.delivery.adapters.pdf import DossierPdf
from services.delivery.adapters.pdf_text import TextEncoder
from services.delivery.domain.cover import cover_text, facts_from_snapshots
from tests.integration.delivery.test_pdf_scripts import NAMES, NO_FONT, fonts

pytestmark = pytest.mark.integration

PLACEHOLDER = re.compile(rb"::placeholder:[0-9a-f-]+::")
TEXTS = [*NAMES.values(), NO_FONT, "Anne (Nan) O\\Brien", "FR", "2025-12-10", "Zoë (2)"]


def dossier() -> DossierPdf:
    target = {"id": "kh", "name": "Prime Minister", "country": "KH", "language": "en"}
    case = {"name": "A case", "request": {"en": "Release them."}, "sender": {"name": "AI"}}
    facts = facts_from_snapshots(target, case, 3, {"KH": 3}, (0, 0), date(2025, 12, 10))
    cover = cover_text(facts)
    pdf = DossierPdf(fonts(), cover, datetime(2025, 12, 10, tzinfo=UTC), wide=False)
    pdf.write_cover(cover.further)
    return pdf


def content(pdf: DossierPdf, page: int) -> bytes:
    """The page's operators, whatever separates them, with the page count's placeholder
    (random per document, replaced when the document is written) made one."""
    return PLACEHOLDER.sub(b"{nb}", raw(pdf, page).replace(b"\n", b" "))


def raw(pdf: DossierPdf, page: int) -> bytes:
    contents = pdf.pages[page].contents
    assert isinstance(contents, bytearray)  # fpdf2 streams it out only when writing
    return bytes(contents)


def test_each_text_is_encoded_as_the_font_itself_encodes_it() -> None:
    ours, theirs = dossier(), dossier()
    encoder = TextEncoder()
    font = theirs.current_font
    assert font is not None
    for text in TEXTS * 2:  # the second time from the codes already known
        assert encoder.encode(ours.current_font, text) == font.encode_text(text)


def test_rows_written_at_once_are_the_operators_text_writes() -> None:
    rows = [(text, "KH", "2025-12-10T09:00:00Z") for text in TEXTS] * 3
    fast, slow = dossier(), dossier()
    slow._plain_state = lambda: False  # type: ignore[method-assign]
    fast.add_rows(rows)
    slow.add_rows(rows)
    assert fast.page == slow.page
    pages = range(1, fast.page + 1)
    assert [content(fast, n) for n in pages] == [content(slow, n) for n in pages]
    written = b"".join(raw(fast, n) for n in pages)
    plain_rows = sum(fast.plain(name) for name, _, _ in rows)
    assert written.count(b" ET BT ") >= 2 * plain_rows > 0  # their texts in one write
