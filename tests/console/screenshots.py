"""Take the README's screenshots of the console, with the tests' browser set-up.

    .venv/bin/python tests/console/screenshots.py [docs]

Starts an embedded server, fills an account with a few projects, tasks
and jobs over the API, and saves ``console.png`` (desktop) and
``console-phone.png`` into the given folder while a PDF is being read.
Not a test: pytest does not collect it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from e2e.client import ApiClient
from e2e.conftest import scan, scanned_pdf
from selenium.webdriver.common.by import By
from servers import api_server

from console.browser import (
    DESKTOP,
    chromium,
    emulate_phone,
    save_screenshot,
    wait_for,
)
from console.conftest import PASSWORD, Console

NOTE = (
    b"Invoice 1042 from Acme Ltd. The total of 420 euros is due on 31 "
    b"January. Payment goes to the account named on the order.\n"
)


def sign_up(url: str, name: str, email: str) -> ApiClient:
    guest = ApiClient(url)
    account = {"email": email, "password": PASSWORD, "name": name}
    guest.call("POST", "/auth/register", 201, json=account)
    login = guest.call(
        "POST", "/auth/login", 200, json={"email": email, "password": PASSWORD}
    )
    return ApiClient(url, login.json()["access_token"])


def seed(user: ApiClient) -> tuple[str, str]:
    """An account's projects and tasks; the ids of the task to show."""
    for name, description in [
        ("Household", "Bills, letters and receipts"),
        ("Garden", ""),
    ]:
        user.call(
            "POST", "/projects", 201, json={"name": name, "description": description}
        )
    project = user.call(
        "POST",
        "/projects",
        201,
        json={"name": "Paperwork", "description": "Scans to file this month"},
    ).json()
    tasks = [
        ("Renew the passport", "medium", "todo", "2030-03-01"),
        ("Pay the Acme invoice", "high", "in_progress", "2030-01-31"),
        ("Archive the 2029 bank statements", "low", "done", None),
    ]
    task_id = ""
    for title, priority, status, due in tasks:
        task = user.call(
            "POST",
            f"/projects/{project['id']}/tasks",
            201,
            json={
                "title": title,
                "priority": priority,
                "status": status,
                "due_date": due,
            },
        ).json()
        if title.startswith("Pay"):
            task_id = task["id"]
    return project["id"], task_id


def main(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        with api_server(tmp / "data") as server, chromium(DESKTOP) as driver:
            user = sign_up(server.url, "Ada Lovelace", "ada@example.com")
            project_id, task_id = seed(user)
            page_png, _ = scan()
            user.upload(task_id, "invoice-scan.png", page_png)
            user.upload(task_id, "invoice.txt", NOTE)

            console = Console(driver, server.url)
            console.open()
            console.log_in("ada@example.com", PASSWORD)
            console.open(f"#/p/{project_id}/t/{task_id}")
            console.wait_for_status("invoice-scan.png", "succeeded")
            pdf = tmp / "contract.pdf"
            pdf.write_bytes(scanned_pdf(tmp, pages=6)[0])
            console.choose_file(pdf)
            card = console.job("contract.pdf")
            wait_for(
                driver,
                lambda d: (
                    "page 2 of 6" in card.find_element(By.CLASS_NAME, "job__stage").text
                ),
            )
            driver.execute_script("window.scrollTo(0, 0)")
            save_screenshot(driver, folder / "console.png")

            emulate_phone(driver)
            driver.execute_script(
                "document.getElementById('task-pane').scrollIntoView()"
            )
            save_screenshot(driver, folder / "console-phone.png")
    print(f"saved {folder / 'console.png'} and {folder / 'console-phone.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
