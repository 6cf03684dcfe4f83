"""``kill -9`` of the worker process while it reads a page, 20 jobs in flight."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from servers import api_server, wait_for

from faults.documents import scanned_pdf
from faults.history import StoredHistory
from faults.processes import (
    RedisServer,
    WorkerSupervisor,
    production_settings,
)
from faults.scenario import assert_read_once, assert_told_the_truth, starts, upload_all

JOBS = 20


def test_a_worker_killed_mid_ocr_loses_no_job_and_runs_none_twice(
    own_redis: RedisServer, data_dir: Path
) -> None:
    """The dead worker's job is found by its stale heartbeat and run again.

    The worker process is killed with SIGKILL as soon as it has a
    Tesseract child, that is while it reads a page of the first job, with
    all 20 jobs in flight. Dramatiq then shuts the worker down and the
    supervisor starts a new one. The killed job is still ``running`` in
    storage; once its heartbeat is older than JOB_STALE_SECONDS the sweep
    re-sends it, and a message the dead worker had taken is re-sent as a
    queued job waiting too long.
    """
    settings = production_settings(own_redis.port)
    documents = [scanned_pdf(seed) for seed in range(JOBS)]

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker", api.url, settings) as workers,
    ):
        uploads = upload_all(api.url, documents, users=2)
        followers = [upload.follow() for upload in uploads]
        victim = wait_for(
            workers.process_reading_a_page, 60, "a worker reading a page", 0.01
        )
        os.kill(victim, signal.SIGKILL)
        in_flight = sum(not follower.finished for follower in followers)
        streams = [follower.join(120) for follower in followers]
        jobs = [upload.job() for upload in uploads]
        worker_logs = workers.logs()

    stored = StoredHistory(data_dir)
    histories = [
        assert_told_the_truth(stored, upload, streamed)
        for upload, streamed in zip(uploads, streams, strict=True)
    ]
    for upload, job in zip(uploads, jobs, strict=True):
        assert_read_once(upload, job)
    assert in_flight == JOBS
    assert len(workers.workers) >= 2, worker_logs[-3000:]
    assert "exited unexpectedly" in worker_logs
    assert max(starts(events) for events in histories) >= 2
