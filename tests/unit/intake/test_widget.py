"""The browser-facing parts of intake (contract v2, "Browsers"): /v1/cases in the
supporter's language, CORS origins from the campaign file taken live, the widget's script
and demo page."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp

from services.intake.entrypoints import widget
from services.intake.entrypoints.case_texts import LocalizedCases
from services.intake.entrypoints.origins import AllowedOrigins, LiveCORS
from shared.catalog import CatalogView
from shared.contracts.catalog import CampaignFile, case_records
from shared.kafka import encode
from tests.documented import schema_accepts

pytestmark = pytest.mark.unit
PAGE = "https://section.example.org"
OTHER = "https://other.example.org"


def campaign(origins: list[str], **case: Any) -> CampaignFile:
    return CampaignFile.model_validate(
        {
            "id": "w4r",
            "name": "W4R",
            "allowed_origins": origins,
            "cases": [
                {
                    "id": "sonia-dahmani",
                    "name": "Sonia Dahmani",
                    "country": "TN",
                    "goal": 1000,
                    "summary": {"fr": "Avocate tunisienne", "en": "Tunisian lawyer"},
                    "targets": [{"id": "t", "name": "T", "country": "TN", "language": "fr"}],
                    **case,
                },
                {
                    "id": "juan-lopez",
                    "name": "Juan López",
                    "country": "HN",
                    "summary": {"es": "Defensor hondureño", "fr": "Défenseur hondurien"},
                    "targets": [{"id": "t", "name": "T", "country": "HN", "language": "es"}],
                },
            ],
        }
    )


def catalog_of(file: CampaignFile) -> CatalogView:
    catalog = CatalogView("cases")
    load(catalog, file)
    return catalog


def load(catalog: CatalogView, file: CampaignFile) -> None:
    for record in case_records(file):
        catalog.apply(record.case.id.encode(), encode(record))


def client_of(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://intake")


@pytest.fixture
def cases() -> httpx.AsyncClient:
    app = FastAPI()
    localized = LocalizedCases(catalog_of(campaign([])))

    async def list_cases(request: Request) -> Any:
        return localized.answer(request)

    app.router.add_api_route("/v1/cases", list_cases, methods=["GET"])
    return client_of(app)


@pytest.mark.parametrize(
    ("query", "header", "language"),
    [
        ("", "", "en"),
        ("", "es-HN,fr;q=0.8", "es"),
        ("", "de, fr-CH;q=0.9, en;q=0.5", "fr"),
        ("", "*, de", "en"),
        ("?lang=fr", "es", "fr"),
        ("?lang=xx", "es;q=0.1, fr;q=0.4", "fr"),
    ],
)
async def test_cases_answer_in_the_language_asked_and_say_which(
    cases: httpx.AsyncClient, query: str, header: str, language: str
) -> None:
    answer = await cases.get(f"/v1/cases{query}", headers={"Accept-Language": header})
    assert answer.headers["content-language"] == language
    assert answer.headers["vary"] == "Accept-Language"
    assert answer.json()["language"] == language


async def test_each_case_falls_back_to_a_language_it_has(cases: httpx.AsyncClient) -> None:
    body = (await cases.get("/v1/cases?lang=es")).json()
    texts = {case["id"]: case["text"] for case in body["cases"]}
    assert texts["juan-lopez"] == {
        "language": "es",
        "name": "Juan López",
        "summary": "Defensor hondureño",
    }
    assert texts["sonia-dahmani"]["language"] == "en"  # no Spanish: English
    sonia = next(c for c in body["cases"] if c["id"] == "sonia-dahmani")
    assert sonia["goal"] == 1000 and sonia["summary"]["fr"] == "Avocate tunisienne"  # v1 keys


def test_a_case_name_given_in_the_language_is_used() -> None:
    file = campaign([], names={"fr": "Sonia Dahmani (avocate)"})
    text = LocalizedCases(catalog_of(file))._render("fr")
    sonia = json.loads(text)["cases"][1]
    assert sonia["text"]["name"] == "Sonia Dahmani (avocate)"


@pytest.mark.parametrize(
    ("asked", "language", "text"), [("fr", "fr", "Je signe"), ("es", "en", "I sign")]
)
def test_each_case_carries_the_current_consent_text_in_the_language_asked(
    asked: str, language: str, text: str
) -> None:
    texts = {"w4r-sign-v1": {"en": "Old text"}, "w4r-sign-v2": {"en": "I sign", "fr": "Je signe"}}
    file = campaign([]).model_copy(update={"consent_texts": texts})
    cases = json.loads(LocalizedCases(catalog_of(file))._render(asked))["cases"]
    shown = {"text_id": "w4r-sign-v2", "language": language, "text": text}  # the last listed
    assert [case["consent"] for case in cases] == [shown, shown]
    assert all(schema_accepts("CaseOut", case) for case in cases)  # as /openapi.json says


def test_a_campaign_without_consent_texts_shows_none() -> None:
    cases = json.loads(LocalizedCases(catalog_of(campaign([])))._render("fr"))["cases"]
    assert [case["consent"] for case in cases] == [None, None]


def cors_client(configured: list[str], catalog: CatalogView) -> httpx.AsyncClient:
    api = FastAPI()
    api.router.add_api_route("/v1/actions", lambda: {"ok": True}, methods=["POST"])
    return client_of(LiveCORS(api, AllowedOrigins(configured, catalog)))


async def preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options(
        "/v1/actions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


async def test_origins_of_a_reloaded_campaign_file_are_taken_without_a_restart() -> None:
    catalog = catalog_of(campaign([PAGE]))
    client = cors_client(["https://configured.example.org"], catalog)
    assert (await preflight(client, PAGE)).headers["access-control-allow-origin"] == PAGE
    refused = await preflight(client, OTHER)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"

    load(catalog, campaign([OTHER]))  # the file loaded again, with another origin
    assert (await preflight(client, OTHER)).status_code == 200
    assert (await preflight(client, PAGE)).status_code == 400
    configured = await preflight(client, "https://configured.example.org")
    assert configured.status_code == 200
    posted = await client.post("/v1/actions", headers={"Origin": OTHER})
    assert posted.headers["access-control-allow-origin"] == OTHER


def test_campaign_file_refuses_an_origin_with_a_path() -> None:
    with pytest.raises(ValueError, match="allowed_origins"):
        campaign(["https://section.example.org/petition"])


def widget_client(counter: str = "http://counter.example.org:8002/") -> httpx.AsyncClient:
    app = FastAPI()
    widget.install(app, counter)
    return client_of(app)


def test_the_script_carries_the_counter_address_and_every_catalogue() -> None:
    script = widget.Script.build("http://counter.example.org:8002/")
    text = script.body.decode()
    assert widget.PLACEHOLDER.decode() not in text
    config = json.loads(text.split("var CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["counter"] == "http://counter.example.org:8002"
    assert {"fr", "en", "es"} <= set(config["messages"])
    keys = {lang: set(texts) for lang, texts in config["messages"].items()}
    assert all(k == keys["en"] for k in keys.values()), "every catalogue has every text"
    assert "SN" in config["countries"] and "ZZ" not in config["countries"]


async def test_the_script_is_served_small_and_gzipped_to_browsers_that_take_it() -> None:
    client = widget_client()
    plain = await client.get("/widget/v1.js", headers={"Accept-Encoding": "identity"})
    assert plain.headers["content-type"].startswith("text/javascript")
    raw = await client.get("/widget/v1.js", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == plain.content  # httpx inflates it
    size = len(gzip.compress(plain.content, 9))
    assert size < 10_000, f"{size} bytes gzipped: keep the widget small"
    again = await client.get("/widget/v1.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304


async def test_the_demo_page_embeds_the_case_and_escapes_what_it_is_given() -> None:
    answer = await widget_client().get('/widget/demo.html?case=sonia-dahmani"><script>&lang=fr')
    page = answer.text
    assert '<div data-plume-case="sonia-dahmaniscript" data-plume-lang="fr"></div>' in page
    assert '<script src="/widget/v1.js" async></script>' in page
    assert "<script>" not in page.split("<body>")[1].replace('<script src="', "")
