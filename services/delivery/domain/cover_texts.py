"""The cover letter's wording in each language a target may be written to. A text that
counts something gives one form per CLDR plural category of that language (`one`, `many`,
`other`, ...; `other` is the fallback), chosen by Babel from the number."""

from __future__ import annotations

Plural = dict[str, str]
Texts = dict[str, str | Plural]

TEXTS: dict[str, Texts] = {
    "en": {
        "title": "Signatures for {case}",
        "solidarity_title": "Messages of solidarity for {case}",
        "greeting": "Dear Sir or Madam,",
        "intro": "We are writing to you about {case}.",
        "signed": {
            "one": "{count} person from {countries} has signed the appeal below and asked "
            "us to pass on their name.",
            "other": "{count} people from {countries} have signed the appeal below and asked "
            "us to pass on their names.",
        },
        "wrote": {
            "one": "{count} person from {countries} wrote to you.",
            "other": "{count} people from {countries} wrote to you.",
        },
        "countries": {"one": "{n} country", "other": "{n} countries"},
        "further": {
            "one": "{n} further supporter from {countries} signed without sharing their name.",
            "other": "{n} further supporters from {countries} signed without sharing their names.",
        },
        "request": "Our request",
        "about": "About {case}",
        "by_country": "By country:",
        "closing": "Yours faithfully,",
        "table": "Name|Country|Signed on",
        "solidarity_table": "First name|Country|Message",
        "page": "Page {n}",
    },
    "fr": {
        "title": "Signatures pour {case}",
        "solidarity_title": "Messages de solidarité pour {case}",
        "greeting": "Madame, Monsieur,",
        "intro": "Nous vous écrivons au sujet de {case}.",
        "signed": {
            "one": "{count} personne de {countries} a signé l'appel ci-dessous et nous a "
            "demandé de vous transmettre son nom.",
            "many": "{count} de personnes de {countries} ont signé l'appel ci-dessous et nous "
            "ont demandé de vous transmettre leur nom.",
            "other": "{count} personnes de {countries} ont signé l'appel ci-dessous et nous "
            "ont demandé de vous transmettre leur nom.",
        },
        "wrote": {
            "one": "{count} personne de {countries} vous a écrit.",
            "many": "{count} de personnes de {countries} vous ont écrit.",
            "other": "{count} personnes de {countries} vous ont écrit.",
        },
        "countries": {"one": "{n} pays", "other": "{n} pays"},
        "further": {
            "one": "{n} autre personne de {countries} a signé sans communiquer son nom.",
            "many": "{n} d'autres personnes de {countries} ont signé sans communiquer leur nom.",
            "other": "{n} autres personnes de {countries} ont signé sans communiquer leur nom.",
        },
        "request": "Notre demande",
        "about": "À propos de {case}",
        "by_country": "Par pays\u00a0:",
        "closing": "Nous vous prions d'agréer, Madame, Monsieur, l'expression de notre haute "
        "considération.",
        "table": "Nom|Pays|Signé le",
        "solidarity_table": "Prénom|Pays|Message",
        "page": "Page {n}",
    },
    "es": {
        "title": "Firmas para {case}",
        "solidarity_title": "Mensajes de solidaridad para {case}",
        "greeting": "Estimado señor, estimada señora:",
        "intro": "Le escribimos en relación con {case}.",
        "signed": {
            "one": "{count} persona de {countries} ha firmado el llamamiento siguiente y nos "
            "ha pedido transmitirle su nombre.",
            "many": "{count} de personas de {countries} han firmado el llamamiento siguiente y "
            "nos han pedido transmitirle su nombre.",
            "other": "{count} personas de {countries} han firmado el llamamiento siguiente y "
            "nos han pedido transmitirle su nombre.",
        },
        "wrote": {
            "one": "{count} persona de {countries} le ha escrito.",
            "many": "{count} de personas de {countries} le han escrito.",
            "other": "{count} personas de {countries} le han escrito.",
        },
        "countries": {"one": "{n} país", "other": "{n} países"},
        "further": {
            "one": "Otra persona de {countries} firmó sin compartir su nombre.",
            "many": "Otros {n} de personas de {countries} firmaron sin compartir su nombre.",
            "other": "Otras {n} personas de {countries} firmaron sin compartir su nombre.",
        },
        "request": "Nuestra petición",
        "about": "Sobre {case}",
        "by_country": "Por país:",
        "closing": "Atentamente,",
        "table": "Nombre|País|Firmado el",
        "solidarity_table": "Nombre|País|Mensaje",
        "page": "Página {n}",
    },
    "nb": {
        "title": "Underskrifter for {case}",
        "solidarity_title": "Solidaritetshilsener til {case}",
        "greeting": "Til rette vedkommende,",
        "intro": "Vi skriver til deg angående {case}.",
        "signed": {
            "one": "{count} person fra {countries} har skrevet under på oppropet nedenfor og "
            "bedt oss om å videreformidle navnet sitt.",
            "other": "{count} personer fra {countries} har skrevet under på oppropet nedenfor "
            "og bedt oss om å videreformidle navnene sine.",
        },
        "wrote": {
            "one": "{count} person fra {countries} har skrevet til deg.",
            "other": "{count} personer fra {countries} har skrevet til deg.",
        },
        "countries": {"one": "{n} land", "other": "{n} land"},
        "further": {
            "one": "{n} person til fra {countries} skrev under uten å oppgi navnet sitt.",
            "other": "{n} personer til fra {countries} skrev under uten å oppgi navnene sine.",
        },
        "request": "Vårt krav",
        "about": "Om {case}",
        "by_country": "Per land:",
        "closing": "Med vennlig hilsen",
        "table": "Navn|Land|Signert",
        "solidarity_table": "Fornavn|Land|Melding",
        "page": "Side {n}",
    },
}
FALLBACK = "en"
