"""The web console in headless Chromium, against a real embedded server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e.client import ApiClient
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from servers import RunningProcess, api_server

from console.browser import chromium, fill, stop_emulating, visible, wait_for

PASSWORD = "a long enough password"  # the password ApiClient.sign_up uses


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    data_dir = tmp_path_factory.mktemp("console-server")
    with api_server(data_dir, {"SSE_HEARTBEAT_SECONDS": "1"}) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@dataclass
class Console:
    """The console page in the browser, driven as a person would."""

    driver: WebDriver
    url: str

    def open(self, fragment: str = "") -> None:
        self.driver.get(f"{self.url}/{fragment}")

    def submit(self, form_id: str) -> None:
        self.driver.find_element(
            By.CSS_SELECTOR, f"#{form_id} button[type=submit]"
        ).click()

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        fill(self.driver, {"login-email": email, "login-password": password})
        self.submit("login-form")
        visible(self.driver, "#project-form")

    def create_project(self, name: str) -> None:
        fill(self.driver, {"project-name": name})
        self.submit("project-form")
        wait_for(self.driver, lambda d: self.text("#tasks-title") == name)

    def create_task(self, title: str) -> None:
        fill(self.driver, {"task-title": title})
        self.submit("task-form")
        wait_for(self.driver, lambda d: self.text("#task-title-text") == title)

    def choose_file(self, path: Path) -> None:
        self.driver.find_element(By.ID, "upload-file").send_keys(str(path))

    def drop_file(self, name: str, content: str) -> None:
        """Drop a file on the drop zone, as a drag from the desktop does."""
        self.driver.execute_script(
            """
            const [name, content] = arguments;
            const data = new DataTransfer();
            data.items.add(new File([content], name, {type: "text/plain"}));
            const zone = document.getElementById("upload-form");
            for (const type of ["dragenter", "dragover", "drop"]) {
              zone.dispatchEvent(new DragEvent(type, {
                bubbles: true, cancelable: true, dataTransfer: data,
              }));
            }
            """,
            name,
            content,
        )

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def job(self, filename: str) -> WebElement:
        """The card of the job reading ``filename``, once it has a job id."""

        def found(d: WebDriver) -> WebElement | None:
            for card in d.find_elements(By.CSS_SELECTOR, "#job-list li.job"):
                try:
                    name = card.find_element(By.CLASS_NAME, "job__name").text
                    if name == filename and card.get_attribute("data-job-id"):
                        return card
                except StaleElementReferenceException:
                    continue
            return None

        return wait_for(self.driver, found)

    def wait_for_status(
        self, filename: str, status: str, timeout: float = 60
    ) -> WebElement:
        def reached(d: WebDriver) -> WebElement | None:
            try:
                card = self.job(filename)
                badge = card.find_element(By.CLASS_NAME, "job__status").text
                return card if badge == status else None
            except StaleElementReferenceException:
                return None

        return wait_for(self.driver, reached, timeout)

    def access_token(self) -> str:
        return self.driver.execute_script(
            "return sessionStorage.getItem('tasks-console.token')"
        )


@pytest.fixture
def console(server: RunningProcess, browser: WebDriver) -> Console:
    """The console, logged out, in a desktop-sized window."""
    stop_emulating(browser)
    page = Console(browser, server.url)
    page.open()
    browser.execute_script("sessionStorage.clear()")
    page.open()
    visible(browser, "#login-form")
    return page


@dataclass
class Account:
    email: str
    api: ApiClient


@pytest.fixture
def account(server: RunningProcess) -> Account:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    return Account(email, ApiClient(server.url).sign_up(email))


@pytest.fixture
def signed_in(console: Console, account: Account) -> Console:
    console.log_in(account.email)
    return console


def open_new_task(console: Console, account: Account) -> str:
    """A new project and task made over the API, opened in the console."""
    project = account.api.call("POST", "/projects", 201, json={"name": "Scans"})
    project_id = project.json()["id"]
    task = account.api.call(
        "POST", f"/projects/{project_id}/tasks", 201, json={"title": "Read them"}
    )
    task_id = task.json()["id"]
    console.open(f"#/p/{project_id}/t/{task_id}")
    wait_for(console.driver, lambda d: console.text("#task-title-text") == "Read them")
    return task_id
