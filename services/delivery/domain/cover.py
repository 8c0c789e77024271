"""The cover letter of a dossier, in the target's language (English when we lack it): the
sender, the date, the addressee, counts with their plurals, country names and the case's
request, all in that one language (numbers, dates and country names from Babel's CLDR data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from services.delivery.domain.cover_texts import FALLBACK, TEXTS, Plural, Texts


@dataclass(frozen=True)
class CoverFacts:
    case_name: str
    target_name: str
    language: str
    summaries: dict[str, str]
    count: int
    countries: int
    further_supporters: int
    further_countries: int
    by_country: dict[str, int] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    target_country: str | None = None
    sender: list[str] = field(default_factory=list)  # the organisation first, then address
    signatory: str = ""
    day: date | None = None


@dataclass(frozen=True)
class CoverText:
    title: str
    greeting: str
    body: str
    demand_heading: str
    demand: str
    further: str | None
    countries: str
    closing: str
    columns: list[str]
    page_label: str
    sender: list[str] = field(default_factory=list)
    date: str = ""
    addressee: list[str] = field(default_factory=list)
    signatory: str = ""


class Wording:
    """The texts, plurals and locale data of one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in TEXTS else FALLBACK
        self.texts: Texts = TEXTS[self.language]
        self.locale = Locale.parse(self.language)

    def text(self, key: str, **values: object) -> str:
        value = self.texts[key]
        assert isinstance(value, str), key
        return value.format(**values)

    def plural(self, key: str, n: int, **values: object) -> str:
        forms = self.texts[key]
        assert isinstance(forms, dict), key
        return _pick(forms, self.locale.plural_form(n)).format(n=self.number(n), **values)

    def number(self, n: int) -> str:
        return format_decimal(n, locale=self.locale)

    def countries(self, n: int) -> str:
        return self.plural("countries", n)

    def country(self, code: str) -> str:
        """The country's name in this language; a code CLDR does not know stays as is."""
        return str(self.locale.territories.get(code, code))


def facts_from_snapshots(
    target: dict[str, Any],
    case: dict[str, Any],
    count: int,
    by_country: dict[str, int],
    further: tuple[int, int],
    day: date,
) -> CoverFacts:
    """The facts of a dossier's cover from the target and case as they were at the cut."""
    language = target["language"]
    sender = case.get("sender") or {}
    contact = [sender.get("email"), sender.get("website")]
    return CoverFacts(
        case_name=case["name"],
        target_name=target.get("names", {}).get(language, target["name"]),
        language=language,
        summaries=case.get("summary", {}),
        count=count,
        countries=len(by_country),
        further_supporters=further[0],
        further_countries=further[1],
        by_country=by_country,
        requests=case.get("request", {}),
        target_country=target.get("country"),
        sender=[sender["name"], *sender.get("address", []), *filter(None, contact)]
        if sender
        else [],
        signatory=sender.get("name") or case.get("campaign", ""),
        day=day,
    )


def _pick(forms: Plural, category: str) -> str:
    return forms.get(category, forms["other"])


def text_for(texts: dict[str, str], language: str) -> str:
    """A text in the target's language, else English, else any we have."""
    for lang in (language, FALLBACK):
        if lang in texts:
            return texts[lang]
    return next(iter(texts.values()), "")


def summary_for(summaries: dict[str, str], language: str) -> str:
    return text_for(summaries, language)


def cover_text(facts: CoverFacts, solidarity: bool = False) -> CoverText:
    w = Wording(facts.language)
    case = facts.case_name
    further = None
    if facts.further_supporters > 0 and not solidarity:
        further = w.plural(
            "further",
            facts.further_supporters,
            countries=w.countries(facts.further_countries),
        )
    counted = w.plural(
        "wrote" if solidarity else "signed",
        facts.count,
        count=w.number(facts.count),
        countries=w.countries(facts.countries),
    )
    request = text_for(facts.requests, facts.language)
    addressee = [facts.target_name]
    if facts.target_country:
        addressee.append(w.country(facts.target_country))
    return CoverText(
        title=w.text("solidarity_title" if solidarity else "title", case=case),
        greeting=w.text("greeting"),
        body=f"{w.text('intro', case=case)} {counted}",
        demand_heading=w.text("request") if request else w.text("about", case=case),
        demand=request or summary_for(facts.summaries, facts.language),
        further=further,
        countries=countries_line(w, facts.by_country),
        closing=w.text("closing"),
        columns=w.text("solidarity_table" if solidarity else "table").split("|"),
        page_label=w.text("page", n="{n}"),
        sender=facts.sender,
        date=format_date(facts.day, "long", locale=w.locale) if facts.day else "",
        addressee=addressee,
        signatory=facts.signatory,
    )


def countries_line(w: Wording, by_country: dict[str, int]) -> str:
    """`By country: France 120 · Senegal 4`, most signatures first, ties by country code."""
    ranked = sorted(by_country.items(), key=lambda item: (-item[1], item[0]))
    if not ranked:
        return ""
    listed = " · ".join(f"{w.country(code)} {w.number(n)}" for code, n in ranked)
    return f"{w.text('by_country')} {listed}"
