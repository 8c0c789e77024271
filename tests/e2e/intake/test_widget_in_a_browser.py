"""The widget in a real headless Chromium, embedded by a page on ANOTHER origin (a tiny
local web server on a free port), as a national section's site would: the page's origin
is allowed by reloading the campaign file (no restart), the widget shows the case in the
page's language with its live total, refuses an invalid email next to the field, thanks
the supporter for a valid signature, and its total rises without a reload. It shows the
campaign's consent text and sends its id. Also: a 503 retried after its Retry-After with
the same action, and the total polled where the
browser has no EventSource. Screenshots: $PLUME_HOME/screenshots/widget-error.png and
widget.png."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.browser import chromium, needs_chromium, save_screenshot
from tests.conftest import Stack
from tests.throwaway import free_port
from tests.waiting import wait_until_sync

pytestmark = [pytest.mark.e2e, needs_chromium()]
CASE = "widget-e2e"
MESSAGES = Path(__file__).parents[3] / "services/intake/entrypoints/widget_assets/messages"
FR: dict[str, str] = json.loads((MESSAGES / "fr.json").read_text())
PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Section page</title></head>
<body style="font-family:sans-serif;margin:2em">
<h1>Agissez maintenant</h1>
<div data-plume-case="{case}" data-plume-lang="fr"></div>
{prelude}<script src="{intake}/widget/v1.js" async></script>
</body></html>
"""
# The /busy page answers the widget's first POST itself with a 503 and Retry-After: 1, as
# intake does when Kafka cannot take a write, and records every body the widget sends.
BUSY = """<script>
window.sent = [];
var realFetch = window.fetch;
window.fetch = function (url, init) {
  if (init && init.method === "POST") {
    window.sent.push(JSON.parse(init.body));
    if (window.sent.length === 1) {
      return Promise.resolve(new Response('{"status":503}',
        {status: 503, headers: {"Retry-After": "1", "Content-Type": "application/problem+json"}}));
    }
  }
  return realFetch.apply(this, arguments);
};
</script>
"""
NO_STREAMS = "<script>window.EventSource = undefined;</script>\n"  # an old browser
POLL_S = 5.0  # the widget's polling period without streams
RISE_AFTER_COUNTED_S = 1.0  # the page's total follows the counter's within this
CONSENT_TEXT = "widget-e2e-sign-v1"
CONSENT_FR = "Je signe ; Amnesty peut remettre mon nom à l'autorité visée."


def campaign(origin: str) -> dict[str, object]:
    return {
        "id": "widget-e2e",
        "name": "Widget end-to-end",
        "allowed_origins": [origin],
        "consent_texts": {CONSENT_TEXT: {"fr": CONSENT_FR, "en": "I sign; Amnesty may hand…"}},
        "cases": [
            {
                "id": CASE,
                "name": "Widget Case",
                "names": {"fr": "Cas du widget"},
                "country": "FR",
                "goal": 1000,
                "solidarity_messages": True,
                "summary": {
                    "fr": "Un cas pour essayer le widget.",
                    "en": "A case to try the widget.",
                    "es": "Un caso para probar el widget.",
                },
                "targets": [
                    {
                        "id": "widget-target",
                        "name": "Widget target",
                        "country": "FR",
                        "language": "fr",
                    }
                ],
            }
        ],
    }


@pytest.fixture
def page_origin(tmp_path: Path, stack: Stack) -> Iterator[str]:
    """A page on its own origin that embeds the widget, allowed by the campaign file."""
    pages = {
        "/": PAGE.format(case=CASE, intake=stack.intake_url, prelude="").encode(),
        "/busy": PAGE.format(case=CASE, intake=stack.intake_url, prelude=BUSY).encode(),
        "/old": PAGE.format(case=CASE, intake=stack.intake_url, prelude=NO_STREAMS).encode(),
    }

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(campaign(origin)))
    plume = Path(sys.executable).with_name("plume")
    subprocess.run([str(plume), "campaign", "load", str(path)], check=True, timeout=60)
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


def preflight_allowed(stack: Stack, origin: str) -> bool:
    answer = httpx.options(
        f"{stack.intake_url}/v1/actions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    return answer.status_code == 200 and answer.headers["access-control-allow-origin"] == origin


def counted(stack: Stack) -> int:
    total = httpx.get(f"{stack.counter_url}/v1/cases/{CASE}/totals").json()["total"]
    assert isinstance(total, int)
    return total


def shown_total(driver: WebDriver) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".plume-total").text)


def fr_total(n: int) -> str:
    digits = f"{n:,}".replace(",", "\u202f")  # French groups thousands with a narrow space
    return FR["total_one" if n <= 1 else "total_other"].format(n=digits)


def field(driver: WebDriver, name: str) -> tuple[WebElement, str]:
    control = driver.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
    error = driver.find_element(By.ID, control.get_attribute("aria-describedby"))
    return control, error.text


@contextmanager
def widget_page(stack: Stack, origin: str, path: str = "/") -> Iterator[tuple[WebDriver, int]]:
    """Chromium on the page at `path` once its origin is allowed, with the case's total as
    counted when the page opened, shown."""
    wait_until_sync(lambda: preflight_allowed(stack, origin), within=30)
    with chromium(width=900, height=900) as driver:
        driver.get(origin + path)
        before = counted(stack)
        wait_until_sync(lambda: shown_total(driver), lambda text: text == fr_total(before))
        yield driver, before


def thanked(driver: WebDriver) -> str:
    thanks = wait_until_sync(
        lambda: driver.find_elements(By.CSS_SELECTOR, ".plume-thanks h3"), within=15
    )
    return str(thanks[0].text)


def test_a_page_on_another_origin_signs_through_the_widget(stack: Stack, page_origin: str) -> None:
    with widget_page(stack, page_origin) as (driver, before):
        assert driver.find_element(By.TAG_NAME, "h2").text == "Cas du widget"
        assert "Un cas pour essayer le widget." in driver.page_source
        share = driver.find_element(By.XPATH, "//input[@type='checkbox']/parent::label")
        assert share.text == CONSENT_FR  # the campaign's text, in the page's language

        sign(driver, "Awa Diallo", "not-an-email")
        wait_until_sync(lambda: field(driver, "supporter.email")[1], within=10)
        control, error = field(driver, "supporter.email")
        assert error == FR["field.supporter.email"]
        assert control.get_attribute("aria-invalid") == "true"
        save_screenshot(driver, "widget-error")

        email = driver.find_element(By.CSS_SELECTOR, '[name="supporter.email"]')
        email.clear()
        email.send_keys(f"widget-{uuid4().hex}@example.org")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert thanked(driver) == FR["thanks_title"].format(name="Awa Diallo")

        wait_until_sync(lambda: counted(stack), lambda n: n == before + 1, within=15)
        counted_at = time.monotonic()
        wait_until_sync(
            lambda: shown_total(driver),
            lambda text: text == fr_total(before + 1),
            within=RISE_AFTER_COUNTED_S,
        )
        assert time.monotonic() - counted_at <= RISE_AFTER_COUNTED_S + 0.2
        save_screenshot(driver, "widget")


def sign(driver: WebDriver, name: str, email: str) -> None:
    driver.find_element(By.CSS_SELECTOR, '[name="supporter.name"]').send_keys(name)
    driver.find_element(By.CSS_SELECTOR, '[name="supporter.email"]').send_keys(email)
    Select(driver.find_element(By.CSS_SELECTOR, '[name="supporter.country"]')).select_by_value("SN")
    driver.find_element(By.CSS_SELECTOR, 'input[type="checkbox"]').click()
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_a_busy_intake_is_retried_after_retry_after_with_the_same_action_id(
    stack: Stack, page_origin: str
) -> None:
    with widget_page(stack, page_origin, "/busy") as (driver, _):
        sign(driver, "Kofi Mensah", f"widget-{uuid4().hex}@example.org")
        busy = FR["busy"].format(s=1)
        wait_until_sync(
            lambda: driver.find_element(By.CSS_SELECTOR, "[role=status]").text,
            lambda text: text == busy,
            within=10,
        )
        thanked(driver)
        sent = driver.execute_script("return window.sent")
    assert len(sent) == 2, sent
    assert sent[0] == sent[1], "the retry is the same action"
    assert sent[0]["action_id"]
    assert sent[0]["consent"] == {  # with the id of the consent text it showed
        "share_name_with_target": True,
        "contact": False,
        "text_id": CONSENT_TEXT,
    }


def test_without_server_sent_events_the_widget_polls_the_total(
    stack: Stack, page_origin: str
) -> None:
    with widget_page(stack, page_origin, "/old") as (driver, before):
        sign(driver, "Ana Souza", f"widget-{uuid4().hex}@example.org")
        wait_until_sync(lambda: counted(stack), lambda n: n == before + 1, within=15)
        wait_until_sync(
            lambda: shown_total(driver),
            lambda text: text == fr_total(before + 1),
            within=POLL_S + 1,
        )
