"""`/docs` works offline (issue 12, item 5): the Swagger UI page of every service loads its
script and styles from the service itself (fastapi-offline ships them), and those assets
are served."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.e2e
ASSET = re.compile(r'(?:src|href)="([^"]+\.(?:js|css))"')


@pytest.mark.parametrize("service", ["intake", "counter", "delivery"])
def test_docs_assets_come_from_the_service_itself(stack: Stack, service: str) -> None:
    base = stack.service_urls[service]
    page = httpx.get(f"{base}/docs", timeout=10.0)
    assert page.status_code == 200
    assets = ASSET.findall(page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    assert not [a for a in assets if not a.startswith("/")], "an asset from another host"
    for asset in assets:
        answer = httpx.get(f"{base}{asset}", timeout=10.0)
        assert answer.status_code == 200 and len(answer.content) > 10_000, asset
    assert (httpx.get(f"{base}/openapi.json", timeout=10.0)).status_code == 200
