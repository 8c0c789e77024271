"""The delivery console in a real headless Chromium (issue 12, 8b): sign in, open a case
and a dossier, download its CSV, acknowledge it with a note, see its status and the audit
trail, sign out. Screenshots of each step: $PLUME_HOME/screenshots/console-*.png."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium, left_page, needs_chromium, save_screenshot
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.console_setup import SIGNERS, ConsoleStack, console_stack

pytestmark = [pytest.mark.integration, needs_chromium()]
WAIT_S = 30


def _click(driver: WebDriver, how: str, what: str) -> None:
    driver.find_element(how, what).click()


def _navigate(driver: WebDriver, how: str, what: str) -> None:
    """Click what leads to another page, and wait until the old one is gone (a click on a
    submit button returns before the browser has loaded the answer)."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(how, what).click()
    WebDriverWait(driver, WAIT_S).until(left_page(old_page))


def _text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def _walk_through(stack: ConsoleStack, downloads: Path) -> None:
    dossier = stack.dossier_ids[0]
    with chromium(width=1400, height=900) as driver:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        driver.get(f"{stack.url}/console/")
        save_screenshot(driver, "console-1-sign-in")
        driver.find_element(By.ID, "key").send_keys("plume_wrong-key")
        _navigate(driver, By.CSS_SELECTOR, "form[action='/console/sign-in'] button")
        assert "Unknown key" in _text(driver)
        driver.find_element(By.ID, "key").send_keys(stack.writer)
        _navigate(driver, By.CSS_SELECTOR, "form[action='/console/sign-in'] button")
        assert stack.writer not in driver.current_url
        assert "Signed in as" in _text(driver) and stack.case_id in _text(driver)
        save_screenshot(driver, "console-2-cases")

        _navigate(driver, By.CSS_SELECTOR, f"a[href='/console/cases/{stack.case_id}']")
        assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(stack.dossier_ids)
        save_screenshot(driver, "console-3-dossiers")
        _navigate(driver, By.CSS_SELECTOR, f"a[href='/console/dossiers/{dossier}']")
        assert driver.find_element(By.ID, "status").text == "sealed"

        _click(driver, By.LINK_TEXT, "signatures.csv")
        csv_file = downloads / "signatures.csv"
        WebDriverWait(driver, WAIT_S).until(lambda _: csv_file.exists())
        rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
        assert sorted(r["name"] for r in rows) == sorted(n for n, _ in SIGNERS)
        driver.refresh()  # the download is now in this dossier's trail
        save_screenshot(driver, "console-4-dossier")

        by = driver.find_element(By.ID, "by")
        by.clear()
        by.send_keys("Nadia, Tunis team")
        driver.find_element(By.ID, "note-input").send_keys("Handed to the embassy's clerk.")
        _navigate(driver, By.CSS_SELECTOR, "form[action$='/acknowledge'] button")
        WebDriverWait(driver, WAIT_S).until(
            lambda d: d.find_element(By.ID, "status").text == "acknowledged"
        )
        assert driver.find_element(By.ID, "acknowledged-by").text == "Nadia, Tunis team"
        assert driver.find_element(By.ID, "note").text == "Handed to the embassy's clerk."
        trail = driver.find_element(By.ID, "downloads").text
        assert "signatures.csv" in trail
        save_screenshot(driver, "console-5-acknowledged")

        _navigate(driver, By.LINK_TEXT, "Downloads (audit)")
        assert "signatures.csv" in driver.find_element(By.ID, "downloads").text
        save_screenshot(driver, "console-6-audit")
        _navigate(driver, By.CSS_SELECTOR, "form[action='/console/sign-out'] button")
        assert driver.find_elements(By.ID, "key"), "signed out: the sign-in form again"
        driver.get(f"{stack.url}/console/dossiers/{dossier}")
        assert driver.find_elements(By.ID, "key"), "the old session no longer opens a page"
        save_screenshot(driver, "console-7-signed-out")


async def test_a_delivery_team_works_through_the_console_in_a_browser(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    async with console_stack(await make_settings()) as stack:
        # Selenium blocks: it runs in a thread while this loop serves the console.
        await asyncio.to_thread(_walk_through, stack, tmp_path)
