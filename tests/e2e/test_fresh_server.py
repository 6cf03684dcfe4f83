"""The first requests a newly started embedded server gets, all at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from servers import api_server

from e2e.client import ApiClient

UPLOADS = 6


def test_simultaneous_first_uploads_are_all_accepted_and_read(tmp_path: Path) -> None:
    # Each upload checks its OCR language against what Tesseract has
    # installed. Asked for lazily under a lock, that list once froze a
    # fresh gevent server when the first uploads came in together.
    with api_server(tmp_path / "data") as server:
        users = [ApiClient(server.url).sign_up() for _ in range(UPLOADS)]
        tasks = [user.new_task() for user in users]

        with ThreadPoolExecutor(UPLOADS) as pool:
            uploads = list(
                pool.map(
                    lambda user, task: user.upload(task, "note.txt", b"Call Ada.\n"),
                    users,
                    tasks,
                )
            )

        deadline = time.monotonic() + 60
        jobs = zip(users, [upload["job"]["id"] for upload in uploads], strict=True)
        owned_jobs = list(jobs)
        while time.monotonic() < deadline:
            statuses = [user.job(job)["status"] for user, job in owned_jobs]
            if all(status == "succeeded" for status in statuses):
                break
            time.sleep(0.2)

    assert statuses == ["succeeded"] * UPLOADS
