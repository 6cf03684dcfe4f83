"""A document that kills its worker every time it is read."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from ocr.documents import draw_page, sentences
from servers import api_server

from faults.documents import Document, scanned_pdf
from faults.history import StoredHistory, check_history
from faults.processes import (
    RedisServer,
    WorkerSupervisor,
    production_settings,
)
from faults.scenario import assert_read_once, starts, upload_all

MAX_ATTEMPTS = 2

# Runs the real tesseract; when the page it read says POISON, it kills its
# parent, which is the process that started it: the Dramatiq worker process.
DEADLY_TESSERACT = """\
#!/bin/sh
out=$(mktemp)
tesseract "$@" >"$out"
status=$?
if grep -q POISON "$out"; then
    kill -9 "$PPID"
fi
cat "$out"
rm -f "$out"
exit "$status"
"""


def poison_page() -> Document:
    page, text = draw_page("POISON " + sentences(7, 20), size=(800, 560), font_px=40)
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    return Document("poison.png", buffer.getvalue(), text)


def test_a_document_that_kills_its_worker_fails_after_the_cap_and_the_queue_moves_on(
    own_redis: RedisServer, data_dir: Path, tmp_path: Path
) -> None:
    """Failed with a readable reason after JOB_MAX_ATTEMPTS deaths, not forever.

    How the worker dies, with no hook in production code: the worker is
    given TESSERACT_CMD pointing at a shell script that runs the real
    tesseract and reads what it printed. The reader starts tesseract with
    Popen straight from the worker process (the Dramatiq child that runs
    jobs), so the script's parent, ``$PPID``, is that process; when the
    page read says POISON, the script sends it SIGKILL. That is a real
    crash of the process that was running the job, as a segfault in a
    native library would be. Dramatiq's main process then stops the
    worker, and the supervisor starts a new one.

    The job is left ``running``; once its heartbeat is stale the sweep
    re-sends it, and each claim counts an attempt. The claim after
    JOB_MAX_ATTEMPTS starts fails it instead of starting it a third time.
    A normal document uploaded behind it still succeeds.
    """
    script = tmp_path / "deadly-tesseract"
    script.write_text(DEADLY_TESSERACT)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    settings = production_settings(own_redis.port, JOB_MAX_ATTEMPTS=str(MAX_ATTEMPTS))
    worker_settings = {**settings, "TESSERACT_CMD": str(script)}

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker", api.url, worker_settings) as workers,
    ):
        poison, normal = upload_all(api.url, [poison_page(), scanned_pdf(300)])
        followers = [poison.follow(), normal.follow()]
        for follower in followers:
            follower.join(120)
        poisoned, survivor = poison.job(), normal.job()
        deaths = workers.logs().count("exited unexpectedly")

    stored = StoredHistory(data_dir)
    poison_events = stored.events(poison.job_id)
    check_history(poison_events)
    assert poisoned["status"] == "failed", poisoned
    assert poisoned["error"]["code"] == "attempts_exhausted", poisoned
    assert (
        f"stopped unexpectedly {MAX_ATTEMPTS} times" in (poisoned["error"]["message"])
    )
    assert starts(poison_events) == MAX_ATTEMPTS
    assert deaths == MAX_ATTEMPTS
    assert_read_once(normal, survivor)
    assert starts(stored.events(normal.job_id)) == 1
