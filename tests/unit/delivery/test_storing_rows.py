"""The hot path's small helpers: the columns an unnest insert takes, and the time a
dossier's CSV shows (the same text strftime gave before it was made cheaper)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.delivery.adapters.rendering import cell_text
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


def test_a_time_is_written_in_utc_to_the_second_with_a_z() -> None:
    assert cell_text(MOMENT) == "2026-12-10T08:30:05Z"
    assert cell_text(MOMENT) == MOMENT.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cell_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_other_values_are_written_as_text() -> None:
    assert cell_text("Courage") == "Courage"
    assert cell_text(42) == "42"
