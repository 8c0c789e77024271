"""GET /v1/cases in the supporter's language: `?lang=` or `Accept-Language` picks among
the languages the campaign files give texts in; the answer says which one it chose
(`language` in the body, `Content-Language`), and each case carries its texts resolved
in `text` (falling back, per case, to English, then to any language it has), and the
consent text to show in `consent` (the widget sends its id as `consent.text_id`). The v1
keys (`summary` with every language) stay as they were."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from shared.catalog import CatalogView
from shared.contracts.catalog import Case, CaseRecord

DEFAULT_LANGUAGE = "en"


def requested_languages(request: Request) -> list[str]:
    """`?lang=` first, then Accept-Language by decreasing quality, as primary subtags."""
    wanted = [request.query_params.get("lang", "")]
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    wanted += [tag for _, _, tag in sorted(ranked)]
    return [tag.split("-")[0].lower() for tag in wanted if tag]


def case_languages(case: Case) -> set[str]:
    return set(case.summary) | set(case.names)


def choose(requested: list[str], available: set[str]) -> str:
    for language in requested:
        if language in available:
            return language
    if DEFAULT_LANGUAGE in available or not available:
        return DEFAULT_LANGUAGE
    return min(available)


def case_text(case: Case, language: str) -> dict[str, str]:
    """The case's name and summary in `language`, or in the best one it has."""
    chosen = choose([language], case_languages(case))
    return {
        "language": chosen,
        "name": case.names.get(chosen, case.name),
        "summary": case.summary.get(chosen, ""),
    }


def consent_text(record: CaseRecord, language: str) -> dict[str, str] | None:
    """The campaign's current consent text (the last its file lists: earlier ones stay
    so that actions naming them stay valid) in `language`, or in the best one it has."""
    if not record.consent_texts:
        return None
    text_id, texts = list(record.consent_texts.items())[-1]
    if not texts:
        return None
    chosen = choose([language], set(texts))
    return {"text_id": text_id, "language": chosen, "text": texts[chosen]}


class LocalizedCases:
    """Bodies of GET /v1/cases per language, rebuilt when the catalogue changes."""

    def __init__(self, catalog: CatalogView) -> None:
        self.catalog = catalog
        self._version = -1
        self._bodies: dict[str, bytes] = {}
        self._languages: set[str] = set()

    def answer(self, request: Request) -> Response:
        if self._version != self.catalog.version:
            self._version, self._bodies = self.catalog.version, {}
            cases = [record.case for record in self.catalog.cases.values()]
            self._languages = set().union(*(case_languages(c) for c in cases))
        language = choose(requested_languages(request), self._languages)
        if language not in self._bodies:
            self._bodies[language] = self._render(language)
        headers = {"Content-Language": language, "Vary": "Accept-Language"}
        return Response(self._bodies[language], media_type="application/json", headers=headers)

    def _render(self, language: str) -> bytes:
        records = sorted(self.catalog.cases.values(), key=lambda r: r.case.id)
        cases = [
            {
                **record.case.model_dump(mode="json"),
                "campaign_id": record.campaign_id,
                "text": case_text(record.case, language),
                "consent": consent_text(record, language),
            }
            for record in records
        ]
        return orjson.dumps({"language": language, "cases": cases})
