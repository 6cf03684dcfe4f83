"""The web console, end to end: a person in Chromium, a real server, Tesseract."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from e2e.conftest import scan, scanned_pdf, words_found
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from servers import RunningProcess

from console.browser import PHONE, emulate_phone, fill, visible, wait_for
from console.conftest import PASSWORD, Account, Console, open_new_task

# Read at about four pages a second here, so the reload test's job runs for
# seconds after its first page.
RELOADED_JOB_PAGES = 20

WATCH_PERCENTAGES = """
window.seenPercentages = [];
new MutationObserver(() => {
  for (const percent of document.querySelectorAll("#job-list .job__percent")) {
    const seen = window.seenPercentages;
    if (seen[seen.length - 1] !== percent.textContent) seen.push(percent.textContent);
  }
}).observe(document.getElementById("job-list"),
           {subtree: true, childList: true, characterData: true});
"""


def test_a_person_registers_and_watches_a_scan_become_a_summary(
    console: Console, tmp_path: Path
) -> None:
    data, text = scan()
    page = tmp_path / "scan.png"
    page.write_bytes(data)

    fill(
        console.driver,
        {
            "register-name": "Ada",
            "register-email": f"{uuid.uuid4().hex[:12]}@example.com",
            "register-password": PASSWORD,
        },
    )
    console.submit("register-form")
    visible(console.driver, "#project-form")
    console.create_project("Paperwork")
    console.create_task("File the scan")
    console.driver.execute_script(WATCH_PERCENTAGES)
    console.choose_file(page)
    card = console.wait_for_status("scan.png", "succeeded")
    card.find_element(By.CSS_SELECTOR, ".job__text summary").click()
    read = wait_for(
        console.driver,
        lambda d: card.find_element(By.CLASS_NAME, "job__text-body").text,
    )

    bar = card.find_element(By.CLASS_NAME, "job__bar")
    seen = console.driver.execute_script("return window.seenPercentages")
    assert bar.get_attribute("value") == "100"
    assert card.find_element(By.CLASS_NAME, "job__percent").text == "100%"
    assert any(p not in ("0%", "100%") for p in seen), seen
    summary = card.find_element(By.CLASS_NAME, "job__summary-text").text
    assert summary and words_found(summary, read) == 1.0
    assert words_found(text, read) > 0.95


def test_a_running_multi_page_job_is_cancelled(
    signed_in: Console, account: Account, tmp_path: Path
) -> None:
    data, _ = scanned_pdf(tmp_path, pages=6)
    pdf = tmp_path / "six-pages.pdf"
    pdf.write_bytes(data)
    open_new_task(signed_in, account)

    signed_in.choose_file(pdf)
    card = signed_in.wait_for_status("six-pages.pdf", "running")
    card.find_element(By.CLASS_NAME, "job__cancel").click()
    card = signed_in.wait_for_status("six-pages.pdf", "cancelled")

    job_id = card.get_attribute("data-job-id")
    assert card.find_element(By.CLASS_NAME, "job__stage").text == "Cancelled"
    assert not card.find_element(By.CLASS_NAME, "job__cancel").is_displayed()
    assert account.api.job(job_id)["status"] == "cancelled"


def test_reloading_mid_job_picks_the_stream_up(
    signed_in: Console, account: Account, server: RunningProcess, tmp_path: Path
) -> None:
    # Enough pages that the reading lasts seconds after its first page, so
    # the reload lands mid-job. The wait takes any page, not the first: a
    # page can be read between two looks at the card.
    data, _ = scanned_pdf(tmp_path, pages=RELOADED_JOB_PAGES)
    pdf = tmp_path / "long-scan.pdf"
    pdf.write_bytes(data)
    open_new_task(signed_in, account)

    signed_in.choose_file(pdf)
    card = signed_in.job("long-scan.pdf")
    job_id = card.get_attribute("data-job-id")
    wait_for(
        signed_in.driver,
        lambda d: re.search(
            rf"page [1-9]\d* of {RELOADED_JOB_PAGES} done",
            card.find_element(By.CLASS_NAME, "job__stage").text,
        ),
    )
    signed_in.driver.refresh()
    signed_in.wait_for_status("long-scan.pdf", "running")
    card = signed_in.wait_for_status("long-scan.pdf", "succeeded")

    subscriptions = server.log().count(f"POST /api/v1/jobs/{job_id}/stream-token")
    assert subscriptions == 2, "the reloaded page subscribes again"
    assert card.find_element(By.CLASS_NAME, "job__percent").text == "100%"
    assert card.find_element(By.CLASS_NAME, "job__summary-text").text


def test_a_filename_and_text_with_markup_show_as_text(
    signed_in: Console, account: Account
) -> None:
    name = "<img src=x onerror=alert(1)>.txt"
    content = (
        "The invoice <img src=x onerror=window.pwned=1> was paid. "
        "The budget was approved. We meet on Friday."
    )
    open_new_task(signed_in, account)

    signed_in.drop_file(name, content)
    card = signed_in.wait_for_status(name, "succeeded")
    card.find_element(By.CSS_SELECTOR, ".job__text summary").click()
    read = wait_for(
        signed_in.driver,
        lambda d: card.find_element(By.CLASS_NAME, "job__text-body").text,
    )

    assert card.find_element(By.CLASS_NAME, "job__name").text == name
    assert "<img src=x onerror=window.pwned=1>" in read
    assert signed_in.driver.find_elements(By.CSS_SELECTOR, "#job-list img") == []
    assert signed_in.driver.execute_script("return window.pwned") is None
    try:
        signed_in.driver.switch_to.alert.dismiss()
        raise AssertionError("a script in the filename ran")
    except NoAlertPresentException:
        pass


def test_the_access_token_never_appears_in_a_url(
    signed_in: Console, account: Account
) -> None:
    open_new_task(signed_in, account)
    signed_in.drop_file("note.txt", "A short note. It has two sentences.")
    signed_in.wait_for_status("note.txt", "succeeded")

    token = signed_in.access_token()
    urls = signed_in.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    streams = [url for url in urls if "/live?" in url]
    assert token
    assert streams and all("stream_token=" in url for url in streams)
    assert not any(token in url for url in urls)


def test_errors_are_told_in_plain_words(
    console: Console, account: Account, tmp_path: Path
) -> None:
    fill(console.driver, {"login-email": account.email, "login-password": "wrong!!!"})
    console.submit("login-form")
    refused = wait_for(console.driver, lambda d: console.text("#notice-text"))
    console.log_in(account.email)
    open_new_task(console, account)
    console.drop_file("page.html", "<html><body>not a document</body></html>")
    unsupported = wait_for(
        console.driver,
        lambda d: (
            "page.html" in console.text("#notice-text") and console.text("#notice-text")
        ),
    )

    assert refused == "The email or password is wrong."
    assert "not supported" in unsupported


def test_tasks_are_filtered_and_paged_with_a_more_button(
    signed_in: Console, account: Account
) -> None:
    project = account.api.call("POST", "/projects", 201, json={"name": "Many"})
    project_id = project.json()["id"]
    for number in range(23):
        account.api.call(
            "POST",
            f"/projects/{project_id}/tasks",
            201,
            json={
                "title": f"Task {number}",
                "priority": "high" if number % 4 == 0 else "low",
            },
        )
    signed_in.open(f"#/p/{project_id}")
    items = "#task-list li"
    wait_for(signed_in.driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, items)))

    first_page = len(signed_in.driver.find_elements(By.CSS_SELECTOR, items))
    signed_in.driver.find_element(By.ID, "tasks-more").click()
    wait_for(
        signed_in.driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, items)) == 23
    )
    more_hidden = not signed_in.driver.find_element(By.ID, "tasks-more").is_displayed()
    Select(signed_in.driver.find_element(By.ID, "filter-priority")).select_by_value(
        "high"
    )
    signed_in.submit("filter-form")
    wait_for(
        signed_in.driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, items)) == 6
    )

    titles = [e.text for e in signed_in.driver.find_elements(By.CSS_SELECTOR, items)]
    assert first_page == 20
    assert more_hidden
    assert all("high priority" in title for title in titles)


def test_logging_in_needs_only_the_keyboard(console: Console, account: Account) -> None:
    body = console.driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link first
    focused = console.driver.switch_to.active_element
    while focused.get_attribute("id") != "login-email":
        focused.send_keys(Keys.TAB)
        focused = console.driver.switch_to.active_element

    focused.send_keys(account.email, Keys.TAB)
    console.driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)

    visible(console.driver, "#project-form")
    assert account.email in console.text("#who-name")


def test_the_console_fits_a_phone_screen(signed_in: Console, account: Account) -> None:
    emulate_phone(signed_in.driver)
    open_new_task(signed_in, account)

    widths = signed_in.driver.execute_script(
        "const page = document.documentElement;"
        "return [page.scrollWidth, page.clientWidth, window.innerWidth]"
    )
    drop = signed_in.driver.find_element(By.ID, "upload-file")

    assert widths[1:] == [PHONE[0], PHONE[0]], "laid out at phone width"
    assert widths[0] <= widths[1], "nothing sticks out sideways"
    assert drop.is_displayed()
