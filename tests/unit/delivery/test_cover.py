"""The cover letter's text: one language throughout, plurals, country names, the date, the
sender and the case's request; and every target of the default campaign gets such a letter."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.delivery.domain.cover import (
    CoverFacts,
    CoverText,
    cover_text,
    facts_from_snapshots,
)
from services.delivery.domain.cover_texts import TEXTS
from shared.contracts.catalog import CampaignFile

pytestmark = pytest.mark.unit
CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy/campaigns/w4r-2025.json"
DAY = date(2025, 12, 10)
NNBSP = "\u202f"  # CLDR's group separator in French numbers (Norwegian: U+00A0)
SENDER = {
    "name": "Amnesty International France",
    "address": ["76 boulevard de la Villette", "75019 Paris"],
    "email": "info@amnesty.fr",
}


def facts(language: str, count: int = 1234, countries: int = 5, **more: Any) -> CoverFacts:
    values: dict[str, Any] = {
        "case_name": "Sonia Dahmani",
        "target_name": "Président",
        "language": language,
        "summaries": {"fr": "Avocate", "en": "Lawyer"},
        "count": count,
        "countries": countries,
        "further_supporters": 0,
        "further_countries": 0,
    }
    return CoverFacts(**(values | more))


class TestPlurals:
    @pytest.mark.parametrize(
        ("language", "count", "countries", "expected"),
        [
            ("en", 1, 1, "1 person from 1 country has signed the appeal below"),
            ("en", 2, 1, "2 people from 1 country have signed the appeal below"),
            ("en", 1234, 5, "1,234 people from 5 countries have signed"),
            ("fr", 1, 1, "1 personne de 1 pays a signé l'appel ci-dessous"),
            ("fr", 1234, 5, f"1{NNBSP}234 personnes de 5 pays ont signé"),
            ("fr", 1_000_000, 80, f"1{NNBSP}000{NNBSP}000 de personnes de 80 pays ont signé"),
            ("es", 1, 1, "1 persona de 1 país ha firmado el llamamiento"),
            ("es", 7, 3, "7 personas de 3 países han firmado el llamamiento"),
            ("nb", 1, 1, "1 person fra 1 land har skrevet under"),
            ("nb", 1234, 2, "1\u00a0234 personer fra 2 land har skrevet under"),
        ],
    )
    def test_counts_agree_with_their_nouns(
        self, language: str, count: int, countries: int, expected: str
    ) -> None:
        assert expected in cover_text(facts(language, count, countries)).body

    def test_never_one_countries(self) -> None:  # the cover once said "from 1 countries"
        body = cover_text(facts("en", 3, 1)).body
        assert "1 countries" not in body and "from 1 country " in body

    @pytest.mark.parametrize(
        ("language", "n", "expected"),
        [
            ("en", 1, "1 further supporter from 1 country signed without sharing their name."),
            ("fr", 7, "7 autres personnes de 2 pays ont signé sans communiquer leur nom."),
            ("es", 1, "Otra persona de 1 país firmó sin compartir su nombre."),
            ("nb", 3, "3 personer til fra 2 land skrev under uten å oppgi navnene sine."),
        ],
    )
    def test_further_supporters(self, language: str, n: int, expected: str) -> None:
        text = cover_text(
            facts(language, further_supporters=n, further_countries=1 if n == 1 else 2)
        )
        assert text.further == expected

    def test_solidarity_messages(self) -> None:
        text = cover_text(facts("es", 1, 1), solidarity=True)
        assert text.title == "Mensajes de solidaridad para Sonia Dahmani"
        assert text.body.endswith("1 persona de 1 país le ha escrito.")
        assert text.further is None


class TestCountriesAndDate:
    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("fr", "Par pays\u00a0: Tunisie 5 · Cambodge 2 · Norvège 2 · Sénégal 1"),
            ("es", "Por país: Túnez 5 · Camboya 2 · Noruega 2 · Senegal 1"),
            ("nb", "Per land: Tunisia 5 · Kambodsja 2 · Norge 2 · Senegal 1"),
            ("en", "By country: Tunisia 5 · Cambodia 2 · Norway 2 · Senegal 1"),
        ],
    )
    def test_country_names_in_the_language_most_first(self, language: str, expected: str) -> None:
        by_country = {"SN": 1, "NO": 2, "TN": 5, "KH": 2}
        assert cover_text(facts(language, by_country=by_country)).countries == expected

    def test_a_code_cldr_does_not_know_stays_as_is(self) -> None:
        assert cover_text(facts("fr", by_country={"QQ": 1})).countries == "Par pays\u00a0: QQ 1"

    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("fr", "10 décembre 2025"),
            ("es", "10 de diciembre de 2025"),
            ("nb", "10. desember 2025"),
            ("en", "December 10, 2025"),
        ],
    )
    def test_the_date(self, language: str, expected: str) -> None:
        assert cover_text(facts(language, day=DAY)).date == expected


TARGET: dict[str, Any] = {
    "id": "tn-president",
    "name": "President of the Republic of Tunisia",
    "names": {"fr": "Président de la République tunisienne"},
    "country": "TN",
    "language": "fr",
}
CASE: dict[str, Any] = {
    "name": "Sonia Dahmani",
    "summary": {"fr": "Avocate tunisienne.", "en": "Tunisian lawyer."},
    "request": {"fr": "Libérez Sonia Dahmani.", "en": "Release Sonia Dahmani."},
    "sender": SENDER,
    "campaign": "Write for Rights 2025",
}


class TestFromSnapshots:
    def cover(self, target: dict[str, Any], case: dict[str, Any]) -> CoverText:
        return cover_text(facts_from_snapshots(target, case, 3, {"TN": 3}, (0, 0), DAY))

    def test_one_language_throughout(self) -> None:
        text = self.cover(TARGET, CASE)
        assert text.addressee == ["Président de la République tunisienne", "Tunisie"]
        assert text.greeting == "Madame, Monsieur,"
        assert (text.demand_heading, text.demand) == ("Notre demande", "Libérez Sonia Dahmani.")
        assert text.sender == [
            "Amnesty International France",
            "76 boulevard de la Villette",
            "75019 Paris",
            "info@amnesty.fr",
        ]
        assert text.signatory == "Amnesty International France"
        assert text.date == "10 décembre 2025"

    def test_a_name_in_one_language_is_kept_as_is(self) -> None:
        target = {k: v for k, v in TARGET.items() if k != "names"}
        assert self.cover(target, CASE).addressee[0] == "President of the Republic of Tunisia"

    def test_without_request_the_summary_under_its_own_heading(self) -> None:
        case = {k: v for k, v in CASE.items() if k not in ("request", "sender")}
        text = self.cover(TARGET, case)
        assert (text.demand_heading, text.demand) == (
            "À propos de Sonia Dahmani",
            "Avocate tunisienne.",
        )
        assert (text.sender, text.signatory) == ([], "Write for Rights 2025")

    def test_unknown_language_is_english_throughout(self) -> None:
        text = self.cover(TARGET | {"language": "sw"}, CASE)
        assert text.greeting == "Dear Sir or Madam,"
        assert text.countries == "By country: Tunisia 3"
        assert text.demand == "Release Sonia Dahmani."


def test_every_target_of_the_default_campaign_gets_a_letter_in_its_language() -> None:
    campaign = CampaignFile.model_validate_json(CAMPAIGN.read_text())
    assert campaign.sender is not None
    languages = set()
    for case in campaign.cases:
        snapshot = {
            "name": case.name,
            "summary": case.summary,
            "request": case.request,
            "sender": campaign.sender.model_dump(mode="json"),
        }
        for target in case.targets:
            languages.add(target.language)
            assert target.language in TEXTS, target.id
            assert target.language in case.request, f"{case.id}: no request in its language"
            assert target.language == "en" or target.language in target.names, target.id
            text = cover_text(
                facts_from_snapshots(
                    target.model_dump(mode="json"), snapshot, 2, {"FR": 2}, (0, 0), DAY
                )
            )
            assert text.demand == case.request[target.language]
            assert text.greeting == TEXTS[target.language]["greeting"]
            assert text.sender[0] == "Amnesty International"
    assert languages == {"en", "fr", "es", "nb"}
