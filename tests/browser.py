"""Headless Chromium for browser tests, driven by Selenium through Debian's chromedriver
(`make install` installs chromium and chromium-driver): no browser download at run time.

    with chromium() as driver:
        driver.get(url)
        save_screenshot(driver, "operators-console")
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.tools import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("PLUME_HOME", Path(__file__).resolve().parent.parent / ".plume"))
FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
    # No calls home: the machine reaches no network but package registries.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def needs_chromium() -> pytest.MarkDecorator:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return pytest.mark.skipif(
        bool(missing) and not IN_CI,
        reason=f"{', '.join(missing)} missing: `make install` installs them",
    )


@contextmanager
def chromium(width: int = 1600, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (its own throwaway profile), quit on leaving."""
    profile = tempfile.mkdtemp(prefix="plume-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page (not just the window) as $PLUME_HOME/screenshots/<name>.png."""
    path = SCREENSHOTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    # The window is taller than the page's viewport by the browser's own frame: add it.
    frame, page = driver.execute_script(
        "return [window.outerHeight - window.innerHeight, document.documentElement.scrollHeight]"
    )
    driver.set_window_size(driver.get_window_size()["width"], max(int(page) + int(frame), 600))
    driver.save_screenshot(str(path))
    return path


# Chromedriver's own words when a node is asked about while its page is being replaced:
# the node is gone, only the error is not yet the standard "stale element" one.
_NODE_GONE = "does not belong to the document"


def left_page(old_page: WebElement) -> Callable[[WebDriver], bool]:
    """A wait condition: true once old_page's element no longer belongs to the page shown.
    Selenium's staleness_of lets chromedriver's "Node ... does not belong to the document"
    race (seen in CI mid-navigation) through as an error; it means the same as stale."""

    def gone(_: WebDriver) -> bool:
        try:
            old_page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if _NODE_GONE in str(error.msg):
                return True
            raise
        return False

    return gone
