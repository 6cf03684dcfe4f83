"""Headless Debian Chromium under Selenium, for the console's tests.

Only the browser and driver installed by apt (``chromium`` and
``chromium-driver``) are used: both paths are given to Selenium, so its
manager never looks for, or downloads, another browser.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = (390, 844)
DESKTOP = (1440, 960)

T = TypeVar("T")


@contextlib.contextmanager
def chromium(size: tuple[int, int] = DESKTOP) -> Iterator[WebDriver]:
    """A fresh headless Chromium with its own throw-away profile."""
    with tempfile.TemporaryDirectory(prefix="console-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=options
        )
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(
    driver: WebDriver, condition: Callable[[WebDriver], T], timeout: float = 30
) -> T:
    """Poll until ``condition`` returns something truthy, and return it."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def visible(driver: WebDriver, css: str) -> WebElement:
    """The first element matching ``css`` once it is displayed."""

    def shown(d: WebDriver) -> WebElement | None:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if element.is_displayed():
                return element
        return None

    return wait_for(driver, shown)


def fill(driver: WebDriver, values: dict[str, str]) -> None:
    """Type into fields by id, replacing what they held."""
    for field_id, value in values.items():
        field = driver.find_element(By.ID, field_id)
        field.clear()
        field.send_keys(value)


def emulate_phone(driver: WebDriver, size: tuple[int, int] = PHONE) -> None:
    """Lay the page out as a phone would; a window cannot be made that narrow."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def stop_emulating(driver: WebDriver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def save_screenshot(driver: WebDriver, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
