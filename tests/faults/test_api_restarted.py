"""The API process killed and started again while clients stream."""

from __future__ import annotations

from pathlib import Path

from servers import api_server, free_port, wait_for

from faults.documents import scanned_pdf
from faults.history import StoredHistory
from faults.processes import (
    RedisServer,
    WorkerSupervisor,
    kill_tree,
    production_settings,
)
from faults.scenario import assert_read_once, assert_told_the_truth, upload_all

JOBS = 8


def test_streams_resume_after_an_api_restart_and_miss_nothing(
    own_redis: RedisServer, data_dir: Path
) -> None:
    """Clients reconnect with Last-Event-ID and get exactly what they missed.

    gunicorn's master and its worker are killed with SIGKILL after a
    couple of jobs are done, then a new API starts on the same port and
    DATA_DIR. Meanwhile each client keeps reconnecting, as EventSource
    does. The worker's calls fail while the API is down: Dramatiq retries
    those messages later, and the new API's sweep re-sends the jobs left
    queued or with a stale heartbeat.
    """
    settings = production_settings(own_redis.port)
    documents = [scanned_pdf(seed) for seed in range(200, 200 + JOBS)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    with WorkerSupervisor(data_dir / "worker", url, settings) as workers:
        with api_server(data_dir, settings, port=port) as api:
            uploads = upload_all(url, documents, users=2)
            followers = [upload.follow() for upload in uploads]
            wait_for(
                lambda: sum(f.finished for f in followers) >= 2,
                60,
                "two jobs to finish",
                every=0.02,
            )
            kill_tree(api.process.pid)

        with api_server(data_dir, settings, port=port):
            streams = [follower.join(120) for follower in followers]
            jobs = [upload.job() for upload in uploads]
        worker_exits = workers.exits

    stored = StoredHistory(data_dir)
    for upload, streamed, job in zip(uploads, streams, jobs, strict=True):
        assert_told_the_truth(stored, upload, streamed)
        assert_read_once(upload, job)
    reconnected = [follower for follower in followers if follower.connections > 1]
    assert len(reconnected) >= JOBS // 2
    assert worker_exits == [], "the worker should ride out the restart"
