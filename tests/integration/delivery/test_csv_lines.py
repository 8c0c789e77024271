"""A signatures.csv holds, byte for byte, what Python's csv writer gives its rows after
safe_cell, although PostgreSQL writes most of its lines (adapters/csv_lines.py): names and
countries that start a formula, in ASCII or another form, or hold what the writer quotes,
beside plain ones, in their order."""

from __future__ import annotations

import csv
import io
from datetime import UTC

import asyncpg
import httpx
import pytest

from services.delivery.domain.csvsafe import safe_cell
from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import case, new_key, publish, serving, signature, stored
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
NAMES_AND_COUNTRIES = [
    ("Awa Diallo", "SN"),
    ('=HYPERLINK("http://x")', "FR"),
    ("+33 1", "FR"),
    ("-1", "FR"),
    ("@SUM(A1)", "FR"),
    ("\tTab", "FR"),
    (" =1+1", "FR"),  # a space a spreadsheet skips
    ("\u00a0=1", "FR"),
    ("\uff1d1", "FR"),  # FULLWIDTH EQUALS SIGN
    ("\u22121", "FR"),  # MINUS SIGN
    ("Zoë, Ångström", "SE"),  # a comma: quoted
    ('Said "hello"', "FR"),  # a quote: quoted, doubled
    ("Line\nbreak", "FR"),
    ("Carriage\rreturn", "FR"),
    ("王小明", "CN"),
    ("Émile", "FR"),
    ("9 Lives", "GB"),
    ("zz top", "=X"),  # the country's cell too
    ("Plain Name", ",X"),
    ("Another", "é1"),
    ("Last Plain", "US"),
]


def expected_csv(rows: list[asyncpg.Record]) -> bytes:
    """What the csv writer gives the rows, each cell through safe_cell (the time: UTC to
    the second, digits first)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(("name", "country", "signed_at"))
    for name, country, signed_at in rows:
        time = signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow((safe_cell(name), safe_cell(country), time))
    return out.getvalue().encode()


async def stored_rows(settings: DeliverySettings) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetch(
            f'SELECT name, country, signed_at FROM "{settings.db_schema}".signatures ORDER BY id'
        )
    finally:
        await conn.close()


async def test_the_csv_is_what_the_csv_writer_gives_each_row_after_safe_cell(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings(partitions=1, render_pdf=False)
    case_id = "case-" + settings.db_schema[-10:]
    target = {"id": "t", "name": "T", "country": "TN", "language": "en"}
    actions = [
        signature(case_id, f"k{i}", name, country)
        for i, (name, country) in enumerate(NAMES_AND_COUNTRIES)
    ]
    await publish(settings, [case(case_id, [target])], actions)
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    async with serving(settings) as client:
        n = len(NAMES_AND_COUNTRIES)
        await wait_until(lambda: stored(settings, "signatures"), lambda got: got == n)
        cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers={"X-API-Key": key})
        [dossier] = cut.json()

        async def rendered() -> httpx.Response:
            url = f"/v1/dossiers/{dossier['id']}/signatures.csv"
            return await client.get(url, headers={"X-API-Key": key})

        got = await wait_until(rendered, lambda r: r.status_code == 200, within=60)
    rows = await stored_rows(settings)
    assert [r["name"] for r in rows] == [name for name, _ in NAMES_AND_COUNTRIES]
    assert got.content == expected_csv(rows)
