"""The first requests a newly started embedded server gets, all at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from servers import api_server, wait_for

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

        owned_jobs = list(
            zip(users, [upload["job"]["id"] for upload in uploads], strict=True)
        )

        def every_job_succeeded() -> list[str] | None:
            statuses = [user.job(job)["status"] for user, job in owned_jobs]
            return statuses if set(statuses) == {"succeeded"} else None

        statuses = wait_for(every_job_succeeded, 60, "every first upload to be read")

    assert statuses == ["succeeded"] * UPLOADS
