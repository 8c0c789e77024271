"""The cover letter of a dossier, in the target's language (English when we lack it)."""

from __future__ import annotations

from dataclasses import dataclass, field

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Signatures for {case}",
        "greeting": "To {target},",
        "body": "We write to you about {case}. {count} people from {countries} countries "
        "have signed the appeal below and asked us to pass on their names.",
        "further": "{n} further supporters from {m} countries signed without sharing their name.",
        "demand": "Our request",
        "closing": "Amnesty International, Write for Rights",
        "table": "Name|Country|Signed at",
        "solidarity_title": "Messages of solidarity for {case}",
        "solidarity_body": "{count} people from {countries} countries wrote to you.",
        "solidarity_table": "First name|Country|Message",
        "page": "Page {n}",
        "by_country": "By country",
    },
    "fr": {
        "title": "Signatures pour {case}",
        "greeting": "À l'attention de {target},",
        "body": "Nous vous écrivons au sujet de {case}. {count} personnes de {countries} pays "
        "ont signé l'appel ci-dessous et nous ont demandé de vous transmettre leur nom.",
        "further": "{n} autres personnes de {m} pays ont signé sans communiquer leur nom.",
        "demand": "Notre demande",
        "closing": "Amnesty International, Écrire pour les droits",
        "table": "Nom|Pays|Signé le",
        "solidarity_title": "Messages de solidarité pour {case}",
        "solidarity_body": "{count} personnes de {countries} pays vous ont écrit.",
        "solidarity_table": "Prénom|Pays|Message",
        "page": "Page {n}",
        "by_country": "Par pays",
    },
    "es": {
        "title": "Firmas para {case}",
        "greeting": "A la atención de {target}:",
        "body": "Le escribimos en relación con {case}. {count} personas de {countries} países "
        "han firmado el llamamiento siguiente y nos han pedido transmitirle su nombre.",
        "further": "Otras {n} personas de {m} países firmaron sin compartir su nombre.",
        "demand": "Nuestra petición",
        "closing": "Amnistía Internacional, Escribe por los Derechos",
        "table": "Nombre|País|Firmado el",
        "solidarity_title": "Mensajes de solidaridad para {case}",
        "solidarity_body": "{count} personas de {countries} países le han escrito.",
        "solidarity_table": "Nombre|País|Mensaje",
        "page": "Página {n}",
        "by_country": "Por país",
    },
}
FALLBACK = "en"


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


def texts_for(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS[FALLBACK])


def summary_for(summaries: dict[str, str], language: str) -> str:
    """The case summary in the target's language, else English, else any we have."""
    for lang in (language, FALLBACK):
        if lang in summaries:
            return summaries[lang]
    return next(iter(summaries.values()), "")


def cover_text(facts: CoverFacts, solidarity: bool = False) -> CoverText:
    t = texts_for(facts.language)
    case = facts.case_name
    further = None
    if facts.further_supporters > 0 and not solidarity:
        further = t["further"].format(n=facts.further_supporters, m=facts.further_countries)
    body_key = "solidarity_body" if solidarity else "body"
    return CoverText(
        title=t["solidarity_title" if solidarity else "title"].format(case=case),
        greeting=t["greeting"].format(target=facts.target_name),
        body=t[body_key].format(case=case, count=facts.count, countries=facts.countries),
        demand_heading=t["demand"],
        demand=summary_for(facts.summaries, facts.language),
        further=further,
        countries=countries_line(t["by_country"], facts.by_country),
        closing=t["closing"],
        columns=t["solidarity_table" if solidarity else "table"].split("|"),
        page_label=t["page"],
    )


def countries_line(label: str, by_country: dict[str, int]) -> str:
    """`By country: FR 120 · SN 4`, most signatures first, ties by country code."""
    ranked = sorted(by_country.items(), key=lambda item: (-item[1], item[0]))
    return f"{label}: " + " · ".join(f"{code} {n}" for code, n in ranked) if ranked else ""
