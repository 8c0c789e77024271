"""The hot path's small helper: the columns an unnest insert takes (the time a dossier's
CSV shows is tests/integration/delivery/test_time_text.py's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.delivery.adapters.signature_store import columns
from services.delivery.domain.intake import NamedSignature

MOMENT = datetime(2026, 12, 10, 9, 30, 5, 987654, tzinfo=timezone(timedelta(hours=1)))


def test_columns_are_the_rows_fields_in_order() -> None:
    rows = [
        NamedSignature("c1", "k1", "Awa Diallo", "SN", MOMENT),
        NamedSignature("c2", "k2", "Иван Петров", "RU", MOMENT, "consent-fr-2"),
    ]
    assert columns(rows) == [
        ("c1", "c2"),
        ("k1", "k2"),
        ("Awa Diallo", "Иван Петров"),
        ("SN", "RU"),
        (MOMENT, MOMENT),
        (None, "consent-fr-2"),
    ]
    assert columns([]) == []
