"""The worker side wired together: Dramatiq on Redis, the pipeline, HTTP reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from tasks_api.adapters.gateway.http import HttpJobGateway
from tasks_api.adapters.queue import dramatiq as dramatiq_queue
from tasks_api.adapters.queue.dramatiq import DramatiqJobQueue, build_broker
from tasks_api.domain.errors import TransientFailure
from tasks_api.domain.jobs import JobStatus
from tasks_api.entrypoints import worker
from tasks_api.entrypoints.settings import Settings, SettingsError
from transport.readers import LineReader
from transport.support import (
    REDIS_HOST,
    REDIS_PORT,
    WORKER_SECRET,
    JobWorld,
    internal_app,
    serving,
)


def wait_for_status(world: JobWorld, job_id: str, timeout: float = 30) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = world.job(job_id).status
        if status.finished:
            return status
        time.sleep(0.05)
    return world.job(job_id).status


@pytest.fixture
def broker(prefix: str) -> Iterator[RedisBroker]:
    broker = build_broker(REDIS_HOST, REDIS_PORT, namespace=prefix)
    yield broker
    broker.client.close()


@pytest.fixture
def world(tmp_path: Path, broker: RedisBroker) -> JobWorld:
    return JobWorld(tmp_path, queue=DramatiqJobQueue(broker))


def test_a_queued_job_is_run_by_a_dramatiq_worker_reporting_over_http(
    world: JobWorld, broker: RedisBroker
) -> None:
    job = world.add_job(b"One page. Of text.\nAnother page.")
    world.summarizer.fail_with = TransientFailure("Busy.", retry_after=0.3)

    with serving(internal_app(world)) as api_url:
        settings = Settings(api_url=api_url, worker_secret=WORKER_SECRET)
        dramatiq_queue.set_job_handler(
            worker.build_pipeline(settings, reader=LineReader()).run
        )
        consumer = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
        consumer.start()
        try:
            world.queue.enqueue(job.id)
            status = wait_for_status(world, job.id)
        finally:
            consumer.stop()
            dramatiq_queue._job_handler = None

    finished = world.job(job.id)
    assert status is JobStatus.SUCCEEDED
    assert finished.attempts == 2  # the busy summarizer sent it round again
    assert finished.summary == "One page."


def test_the_pipeline_reports_through_the_http_gateway() -> None:
    settings = Settings(api_url="http://api.internal:8000", worker_secret=WORKER_SECRET)

    pipeline = worker.build_pipeline(settings, reader=LineReader())

    assert isinstance(pipeline._gateway, HttpJobGateway)


def test_a_worker_without_a_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="WORKER_SECRET"):
        worker.build_pipeline(Settings(), reader=LineReader())


def test_run_worker_refuses_to_start_without_redis_or_a_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = worker.run_worker(Settings(worker_secret=WORKER_SECRET), 1, 1)

    assert status == 2
    assert "REDIS_HOST" in capsys.readouterr().err


# run_worker in a process of its own, as `tasks-api worker` runs it. The
# reader is swapped for LineReader (Tesseract is tested elsewhere) and the
# broker gets this test's Redis namespace; both stay module attributes, so
# the worker processes dramatiq forks inherit them.
WORKER_SCRIPT = textwrap.dedent(
    """
    import sys

    from tasks_api.adapters.queue import dramatiq as dramatiq_queue
    from tasks_api.entrypoints import worker
    from tasks_api.entrypoints.settings import Settings
    from transport.readers import LineReader

    api_url, secret, namespace = sys.argv[1:4]
    make_pipeline, make_broker = worker.build_pipeline, worker.build_broker
    worker.build_pipeline = lambda settings: make_pipeline(settings, LineReader())
    worker.build_broker = lambda host, port: make_broker(
        host, port, namespace=namespace
    )
    settings = Settings(
        redis_host="127.0.0.1", api_url=api_url, worker_secret=secret
    )
    sys.exit(worker.run_worker(settings, processes=1, threads=1))
    """
)


def test_run_worker_starts_dramatiq_processes_that_finish_a_job(
    world: JobWorld, prefix: str, tmp_path: Path
) -> None:
    job = world.add_job(b"Worker process text. More.")
    log_path = tmp_path / "worker.log"

    with serving(internal_app(world)) as api_url, log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, api_url, WORKER_SECRET, prefix],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        try:
            world.queue.enqueue(job.id)
            status = wait_for_status(world, job.id, timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            exit_status = process.wait(30)

    output = log_path.read_text()
    assert status is JobStatus.SUCCEEDED, output
    assert exit_status == 0, output
    assert f"Job {job.id!r} handled" in output
    assert "ready: jobs from Redis" in output
