"""HttpJobGateway against the internal routes served on 127.0.0.1."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from tasks_api.adapters.gateway.http import ApiRefused, HttpJobGateway, _retry_after
from tasks_api.domain.errors import JobCancelled, TransientFailure, UnreadableDocument
from tasks_api.domain.jobs import EventType, JobStage, JobStatus
from tasks_api.ports.gateway import JobTicket
from tasks_api.usecases.pipeline import DocumentPipeline
from transport.readers import LineReader
from transport.support import (
    WORKER_SECRET,
    JobWorld,
    RedirectingFileStore,
    closed_port,
    internal_app,
    serving,
)


class HeaderRecorder:
    """A WSGI app that answers fixed bytes and keeps each request's headers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return Response(self.body)(environ, start_response)


@pytest.fixture
def world(tmp_path: Path) -> JobWorld:
    return JobWorld(tmp_path)


@pytest.fixture
def api_url(world: JobWorld) -> Iterator[str]:
    with serving(internal_app(world)) as url:
        yield url


@pytest.fixture
def gateway(api_url: str) -> Iterator[HttpJobGateway]:
    gateway = HttpJobGateway(api_url, WORKER_SECRET, timeout=5)
    yield gateway
    gateway.close()


def test_a_job_runs_from_claim_to_summary_over_http(
    world: JobWorld, gateway: HttpJobGateway
) -> None:
    job = world.add_job(b"First page. Still first.\nSecond page.\nThird page.")

    DocumentPipeline(gateway, LineReader()).run(job.id)

    finished = world.job(job.id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.text == "First page. Still first.\n\nSecond page.\n\nThird page."
    assert finished.summary == "First page."
    progress = [
        (e.data["stage"], e.data["pages_done"])
        for e in world.storage.job_events.list(job.id)
        if e.type is EventType.PROGRESS
    ]
    assert progress == [
        ("downloading", 0),
        ("ocr", 1),
        ("ocr", 2),
        ("ocr", 3),
        ("summarizing", 0),
    ]


def test_claim_gives_a_ticket_once_then_none(
    world: JobWorld, gateway: HttpJobGateway
) -> None:
    job = world.add_job()

    first = gateway.claim(job.id)
    second = gateway.claim(job.id)

    assert first == JobTicket(job.id, "text/plain", "eng", 1)
    assert second is None


def test_fetch_file_copies_the_upload(
    world: JobWorld, gateway: HttpJobGateway, tmp_path: Path
) -> None:
    content = bytes(range(256)) * 4096  # 1 MiB, every byte value
    job = world.add_job(content)

    gateway.fetch_file(job.id, tmp_path / "copy")

    assert (tmp_path / "copy").read_bytes() == content


def test_a_redirect_to_another_origin_does_not_carry_the_secret(
    world: JobWorld, tmp_path: Path
) -> None:
    recorder = HeaderRecorder(b"bytes from the file host")
    with serving(recorder) as file_host:
        world.files = RedirectingFileStore(tmp_path / "files", f"{file_host}/signed")
        job = world.add_job()
        with serving(internal_app(world)) as api_url:
            gateway = HttpJobGateway(api_url, WORKER_SECRET, timeout=5)

            gateway.fetch_file(job.id, tmp_path / "copy")

    assert (tmp_path / "copy").read_bytes() == b"bytes from the file host"
    assert len(recorder.headers) == 1
    assert "x-worker-secret" not in recorder.headers[0]


def test_reports_reach_the_lifecycle(world: JobWorld, gateway: HttpJobGateway) -> None:
    job = world.add_job()
    gateway.claim(job.id)

    gateway.report_progress(job.id, JobStage.OCR, 1, 3)
    world.storage.jobs.request_cancel(job.id)
    asked = gateway.is_cancel_requested(job.id)
    gateway.cancelled(job.id)

    assert asked is True
    assert world.job(job.id).pages_done == 1
    assert world.job(job.id).status is JobStatus.CANCELLED


def test_failed_and_retry_later_reach_the_lifecycle(
    world: JobWorld, gateway: HttpJobGateway
) -> None:
    retried, failing = world.add_job(), world.add_job()
    gateway.claim(retried.id)
    gateway.claim(failing.id)

    gateway.retry_later(retried.id, "LLM busy", 12.5)
    gateway.failed(failing.id, "encrypted_pdf", "The PDF is encrypted.")

    assert world.job(retried.id).status is JobStatus.QUEUED
    assert world.queue.sent == [(retried.id, 12.5)]
    assert world.job(failing.id).error_code == "encrypted_pdf"


def test_the_api_being_down_is_a_transient_failure() -> None:
    gateway = HttpJobGateway(f"http://127.0.0.1:{closed_port()}", WORKER_SECRET)

    with pytest.raises(TransientFailure):
        gateway.claim("job-1")


def test_a_busy_summarizer_is_a_transient_failure_with_its_delay(
    world: JobWorld, gateway: HttpJobGateway
) -> None:
    job_id = world.running_job()
    world.summarizer.fail_with = TransientFailure("Rate limited.", retry_after=7.2)

    with pytest.raises(TransientFailure) as caught:
        gateway.summarize(job_id, "Some text.")

    assert caught.value.retry_after == 8


def test_an_unsummarizable_text_is_an_unreadable_document(
    world: JobWorld, gateway: HttpJobGateway
) -> None:
    job_id = world.running_job()
    world.summarizer.fail_with = UnreadableDocument("too_long", "Far too long.")

    with pytest.raises(UnreadableDocument) as caught:
        gateway.summarize(job_id, "Some text.")

    assert (caught.value.code, caught.value.message) == ("too_long", "Far too long.")


def test_a_missing_upload_is_an_unreadable_document(
    world: JobWorld, gateway: HttpJobGateway, tmp_path: Path
) -> None:
    job = world.add_job()
    world.files.delete(job.storage_key)

    with pytest.raises(UnreadableDocument) as caught:
        gateway.fetch_file(job.id, tmp_path / "copy")

    assert caught.value.code == "file_missing"
    assert not (tmp_path / "copy").exists()


def test_a_wrong_secret_is_refused_not_retried(api_url: str) -> None:
    gateway = HttpJobGateway(api_url, "not-the-secret")

    with pytest.raises(ApiRefused) as caught:
        gateway.claim("job-1")

    assert caught.value.status == 401


def test_an_api_without_worker_routes_makes_jobs_look_gone(
    world: JobWorld, tmp_path: Path
) -> None:
    job = world.add_job()
    with serving(internal_app(world, worker_secret=None)) as api_url:
        gateway = HttpJobGateway(api_url, WORKER_SECRET)

        ticket = gateway.claim(job.id)
        gateway.report_progress(job.id, JobStage.OCR, 1, 2)
        cancel = gateway.is_cancel_requested(job.id)
        with pytest.raises(JobCancelled):
            gateway.summarize(job.id, "text")

    assert ticket is None and cancel is True
    assert world.job(job.id).status is JobStatus.QUEUED


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)

    assert _retry_after("12") == 12
    assert 55 <= (_retry_after(in_a_minute) or 0) <= 61
    assert _retry_after("soon") is None
    assert _retry_after(None) is None
