"""Redis restarted empty in the middle of a run."""

from __future__ import annotations

from pathlib import Path

from servers import api_server, wait_for

from faults.documents import scanned_pdf
from faults.history import StoredHistory
from faults.processes import (
    RedisServer,
    WorkerSupervisor,
    production_settings,
)
from faults.scenario import assert_read_once, assert_told_the_truth, upload_all

JOBS = 12


def test_jobs_lost_with_redis_are_found_in_storage_and_all_finish(
    own_redis: RedisServer, data_dir: Path
) -> None:
    """Redis keeps nothing on disk, so a restart loses every message it held.

    After a couple of jobs are done, Redis is killed with SIGKILL and a
    fresh one started on the same port: the queued messages, and with
    them most jobs, are gone from the queue. Storage still says those
    jobs are queued; the API's sweep re-sends each one waiting longer than
    JOB_REQUEUE_SECONDS, and the worker's consumer reconnects and runs
    them. Events published while Redis was down never reach the streams
    live; the streams read them from storage.
    """
    settings = production_settings(own_redis.port)
    documents = [scanned_pdf(seed) for seed in range(100, 100 + JOBS)]

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker", api.url, settings) as workers,
    ):
        uploads = upload_all(api.url, documents)
        followers = [upload.follow() for upload in uploads]
        wait_for(
            lambda: sum(f.finished for f in followers) >= 2,
            60,
            "two jobs to finish",
            every=0.02,
        )
        unfinished_at_restart = sum(not f.finished for f in followers)
        own_redis.restart_empty()
        streams = [follower.join(120) for follower in followers]
        jobs = [upload.job() for upload in uploads]
        api_log = api.log()

    stored = StoredHistory(data_dir)
    for upload, streamed, job in zip(uploads, streams, jobs, strict=True):
        assert_told_the_truth(stored, upload, streamed)
        assert_read_once(upload, job)
    assert unfinished_at_restart >= JOBS // 2
    assert own_redis.starts == 2
    assert "Re-sent" in api_log
    assert len(workers.workers) == 1, "the worker should ride out the restart"
