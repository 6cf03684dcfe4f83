"""A job put back after a passing fault waits out its delay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAIServer, Reply, running_openai_server
from servers import api_server

from faults.documents import scanned_pdf
from faults.history import StoredHistory, check_history
from faults.processes import RedisServer, WorkerSupervisor, production_settings
from faults.scenario import upload_all

MAX_ATTEMPTS = 2


@pytest.fixture
def failing_model_server() -> Iterator[FakeOpenAIServer]:
    with running_openai_server() as server:
        server.always(Reply.server_error(500))
        yield server


def test_a_retried_job_is_not_started_again_before_its_delay(
    own_redis: RedisServer, data_dir: Path, failing_model_server: FakeOpenAIServer
) -> None:
    """The sweep must not cut short the delay a retry was given.

    The model server answers 500 every time, so the first attempt ends as
    a passing fault and the job goes back to ``queued`` with a delay (5 s
    for a first retry), which its status event announces. A job that is
    due later is not lost: the sweep, looking for queued jobs that waited
    longer than JOB_REQUEUE_SECONDS, must count from when the job is due,
    not from its upload, or every retry (and every Retry-After a rate
    limited model asks for) shrinks to one sweep.

    The check compares two stored timestamps: the next start cannot come
    before the announced delay has passed, however slow the machine.
    """
    settings = production_settings(
        own_redis.port,
        JOB_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        # Long enough that no attempt looks orphaned: only the delay counts.
        JOB_STALE_SECONDS="30",
        OPENAI_BASE_URL=failing_model_server.base_url,
        OPENAI_API_KEY="sk-fault-test",
    )

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker", api.url, settings),
    ):
        (upload,) = upload_all(api.url, [scanned_pdf(500)])
        upload.follow().join(120)
        job = upload.job()

    events = StoredHistory(data_dir).events(upload.job_id)
    check_history(events)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "service_unavailable", job
    (retry,) = [e for e in events if "retry_in_seconds" in e.data]
    (_, second_start) = [
        e for e in events if e.type == "status" and e.data["status"] == "running"
    ]
    assert retry.at is not None and second_start.at is not None
    waited = (second_start.at - retry.at).total_seconds()
    assert waited >= retry.data["retry_in_seconds"], (
        f"started again {waited:.1f} s after a retry announced in "
        f"{retry.data['retry_in_seconds']} s: {events}"
    )
