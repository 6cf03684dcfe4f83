"""Slow and hanging model servers: jobs give up in time, run once, move on.

The issue also asks for a slow Cloudinary. That part cannot be tested
against real processes yet: ``container.open_file_store`` builds
``CloudinaryFileStore`` without ``api_url``, and no setting carries one,
so an API process always talks to https://api.cloudinary.com and cannot
be pointed at the fake in ``tests/fakes/cloudinary_server.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAIServer, Reply, running_openai_server
from servers import api_server

from faults.documents import scanned_pdf
from faults.history import StoredHistory, check_history
from faults.processes import RedisServer, WorkerSupervisor, production_settings
from faults.scenario import assert_read_once, starts, upload_all

MAX_ATTEMPTS = 2
LLM_TIMEOUT_SECONDS = 1
HANGING_SECONDS = 10.0
# Slower than JOB_STALE_SECONDS (3), well within the model's own timeout.
SLOW_SECONDS = 8.0


@pytest.fixture
def model_server() -> Iterator[FakeOpenAIServer]:
    with running_openai_server() as server:
        yield server


def test_a_hanging_model_server_fails_the_job_in_time_and_the_next_job_runs(
    own_redis: RedisServer, data_dir: Path, model_server: FakeOpenAIServer
) -> None:
    """Each summary call gives up after OPENAI_TIMEOUT_SECONDS, then the job.

    The model server answers only after HANGING_SECONDS, far beyond the
    API's timeout for it. Each attempt's summary call therefore fails as
    a passing fault, the job is put back with a delay, and after
    JOB_MAX_ATTEMPTS attempts it fails as ``service_unavailable``. Once
    the model answers again, the next job is summarized by it: the worker
    was never stuck waiting.
    """
    model_server.always(Reply.slow(HANGING_SECONDS))
    settings = production_settings(
        own_redis.port,
        JOB_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        OPENAI_BASE_URL=model_server.base_url,
        OPENAI_API_KEY="sk-fault-test",
        OPENAI_TIMEOUT_SECONDS=str(LLM_TIMEOUT_SECONDS),
    )

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker", api.url, settings),
    ):
        (stalled,) = upload_all(api.url, [scanned_pdf(400)])
        stalled.follow().join(120)
        given_up = stalled.job()

        model_server.always(Reply.normal())
        (later,) = upload_all(api.url, [scanned_pdf(401)])
        later.follow().join(120)
        summarized = later.job()

    events = StoredHistory(data_dir).events(stalled.job_id)
    check_history(events)
    assert given_up["status"] == "failed", (
        f"the API waited {HANGING_SECONDS:g} s for the model although "
        f"OPENAI_TIMEOUT_SECONDS={LLM_TIMEOUT_SECONDS}: {given_up}"
    )
    assert given_up["error"]["code"] == "service_unavailable", given_up
    assert starts(events) == MAX_ATTEMPTS
    assert any("retry_in_seconds" in event.data for event in events), events
    assert_read_once(later, summarized)
    assert summarized["summary"].startswith("summary "), summarized


def test_a_slow_model_server_does_not_make_a_live_job_look_orphaned(
    own_redis: RedisServer, data_dir: Path, model_server: FakeOpenAIServer
) -> None:
    """A summary taking longer than JOB_STALE_SECONDS is waited for, once.

    The model answers after SLOW_SECONDS, within its timeout but past
    JOB_STALE_SECONDS. The worker that runs the job is alive and waiting
    on the API's summarize route all along, so a second, idle worker must
    not be handed the job as if its worker had died: the job runs once,
    and the model is asked once. (With the default settings the same
    happens to any summary that takes over five minutes: a long document
    summarized in many chunks, or a local model on a CPU.)
    """
    model_server.always(Reply.slow(SLOW_SECONDS))
    settings = production_settings(
        own_redis.port,
        OPENAI_BASE_URL=model_server.base_url,
        OPENAI_API_KEY="sk-fault-test",
    )

    with (
        api_server(data_dir, settings) as api,
        WorkerSupervisor(data_dir / "worker-a", api.url, settings),
        WorkerSupervisor(data_dir / "worker-b", api.url, settings),
    ):
        (upload,) = upload_all(api.url, [scanned_pdf(402)])
        upload.follow().join(120)
        job = upload.job()

    events = StoredHistory(data_dir).events(upload.job_id)
    check_history(events)
    assert_read_once(upload, job)
    assert starts(events) == 1, f"a second worker ran the job too: {events}"
    assert len(model_server.completions) == 1
