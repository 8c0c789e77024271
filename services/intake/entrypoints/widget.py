"""GET /widget/v1.js, the embeddable widget (contract v2, "Browsers"), and
GET /widget/demo.html?case=ID&lang=LL, a page that embeds it.

The script is plain JavaScript kept in widget_assets/; intake writes into it, once, what
it needs and cannot guess (where browsers reach the counter, the message catalogues in
widget_assets/messages/, the country codes intake accepts), and serves it gzipped to
browsers that take gzip, so an embedding page fetches one small file."""

from __future__ import annotations

import gzip
import html
import zlib
from dataclasses import dataclass
from pathlib import Path

import orjson
import pycountry
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

ASSETS = Path(__file__).with_name("widget_assets")
PLACEHOLDER = b"/*PLUME_CONFIG*/ {}"
CACHE = "public, max-age=300"
SLUG = "abcdefghijklmnopqrstuvwxyz0123456789-"


@dataclass(frozen=True)
class Script:
    body: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def build(cls, counter_url: str) -> Script:
        catalogues = {p.stem: orjson.loads(p.read_bytes()) for p in ASSETS.glob("messages/*.json")}
        config = {
            "counter": counter_url.rstrip("/"),
            "messages": catalogues,
            "countries": sorted(c.alpha_2 for c in pycountry.countries),
        }
        source = (ASSETS / "v1.js").read_bytes()
        body = source.replace(PLACEHOLDER, orjson.dumps(config))
        return cls(body, gzip.compress(body, 9, mtime=0), f'"{zlib.crc32(body):08x}"')


def install(app: FastAPI, counter_url: str) -> None:
    script = Script.build(counter_url)

    async def widget_script(request: Request) -> Response:
        headers = {"ETag": script.etag, "Cache-Control": CACHE, "Vary": "Accept-Encoding"}
        headers["X-Content-Type-Options"] = "nosniff"
        if script.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = script.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body, headers["Content-Encoding"] = script.gzipped, "gzip"
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)

    app.router.add_api_route(
        "/widget/v1.js", widget_script, methods=["GET"], include_in_schema=False
    )
    app.router.add_api_route(
        "/widget/demo.html", demo_page, methods=["GET"], include_in_schema=False
    )


async def demo_page(request: Request, case: str = "", lang: str = "") -> Response:
    """The demo page for `?case=` in `?lang=` (the browser's language when not given)."""
    page = (ASSETS / "demo.html").read_text()
    case = "".join(ch for ch in case.lower() if ch in SLUG)[:80]
    lang = "".join(ch for ch in lang.lower() if ch.isalpha())[:8]
    page = page.replace("{case}", html.escape(case)).replace("{lang}", html.escape(lang))
    return Response(page, media_type="text/html; charset=utf-8")
