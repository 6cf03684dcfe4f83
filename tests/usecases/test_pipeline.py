"""The job lifecycle and the pipeline over in-memory storage and fake OCR.

Real Tesseract is exercised in tests/ocr and the end-to-end tests; here
the reader is scripted so each path through the pipeline is deterministic.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fakes.ports import RecordingQueue, RecordingSummarizer, ScriptedReader

from tasks_api.adapters.events.inprocess import InProcessEventBus
from tasks_api.adapters.files.local import LocalFileStore
from tasks_api.adapters.gateway.direct import DirectJobGateway
from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.domain.errors import Conflict, JobCancelled
from tasks_api.domain.jobs import EventType, Job, JobStatus
from tasks_api.domain.model import Project, Task, User
from tasks_api.usecases.attachments import AttachmentService
from tasks_api.usecases.jobs import JobEvents, JobLifecycle, JobService
from tasks_api.usecases.pipeline import DocumentPipeline

TEXT = b"The quarterly report shows growth. Costs fell. Revenue rose in every region."


class World:
    """One user with one task, and every part of the pipeline wired by hand."""

    def __init__(
        self, tmp_path: Path, reader: ScriptedReader, summarizer: RecordingSummarizer
    ):
        self.storage = InMemoryStorage()
        self.queue = RecordingQueue()
        self.bus = InProcessEventBus()
        self.events = JobEvents(self.storage, self.bus)
        self.files = LocalFileStore(tmp_path / "files")
        self.reader = reader
        self.summarizer = summarizer
        self.lifecycle = JobLifecycle(self.storage, self.events, summarizer, self.queue)
        self.gateway = DirectJobGateway(self.lifecycle, self.files)
        self.pipeline = DocumentPipeline(self.gateway, reader, base_delay=1)
        self.jobs = JobService(self.storage, self.events)
        self.attachments = AttachmentService(
            self.storage,
            self.files,
            self.queue,
            self.events,
            languages=reader.languages,
            max_upload_bytes=1024 * 1024,
        )

        self.user = User(email="u@example.com", name="U", password_hash="x")
        self.storage.users.add(self.user)
        project = Project(owner_id=self.user.id, name="P")
        self.storage.projects.add(project)
        self.task = Task(owner_id=self.user.id, project_id=project.id, title="T")
        self.storage.tasks.add(self.task)

    def upload(self, data: bytes = TEXT) -> str:
        upload = self.attachments.upload(
            self.user.id, self.task.id, "r.txt", io.BytesIO(data)
        )
        return upload.job.id

    def job(self, job_id: str) -> Job:
        return self.storage.jobs.get(job_id)

    def event_types(self, job_id: str) -> list[str]:
        return [
            f"{e.type.value}:{e.data.get('status', e.data.get('stage', ''))}"
            for e in self.storage.job_events.list(job_id)
        ]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(
        tmp_path,
        ScriptedReader(["Page one. It is long.", "Page two."]),
        RecordingSummarizer(),
    )


def test_an_upload_is_queued_then_read_and_summarized(world: World) -> None:
    job_id = world.upload()

    world.pipeline.run(job_id)

    job = world.job(job_id)
    assert job.status is JobStatus.SUCCEEDED and job.progress == 100
    assert job.text == "Page one. It is long.\n\nPage two."
    assert job.summary == "Page one."
    assert world.queue.sent == [(job_id, 0)]
    assert world.event_types(job_id) == [
        "status:queued",
        "status:running",
        "progress:downloading",
        "progress:ocr",
        "progress:ocr",
        "progress:summarizing",
        "summary_ready:",
        "status:succeeded",
    ]
    assert [e.seq for e in world.storage.job_events.list(job_id)] == list(range(1, 9))


def test_a_duplicate_delivery_changes_nothing(world: World) -> None:
    job_id = world.upload()
    world.pipeline.run(job_id)
    events_before = world.event_types(job_id)

    world.pipeline.run(job_id)

    assert world.reader.calls == 1
    assert world.event_types(job_id) == events_before


def test_a_queued_job_cancelled_never_runs(world: World) -> None:
    job_id = world.upload()

    world.jobs.cancel(world.user.id, job_id)
    world.pipeline.run(job_id)

    assert world.job(job_id).status is JobStatus.CANCELLED
    assert world.reader.calls == 0


def test_cancelling_twice_is_harmless_and_a_finished_job_conflicts(
    world: World,
) -> None:
    cancelled = world.upload()
    finished = world.upload()
    world.pipeline.run(finished)

    world.jobs.cancel(world.user.id, cancelled)
    again = world.jobs.cancel(world.user.id, cancelled)

    assert again.status is JobStatus.CANCELLED
    with pytest.raises(Conflict):
        world.jobs.cancel(world.user.id, finished)


def test_a_running_job_stops_at_its_next_checkpoint_and_never_summarizes(
    tmp_path: Path,
) -> None:
    reader = ScriptedReader(["one.", "two.", "three."], hold_before_page=2)
    world = World(tmp_path, reader, RecordingSummarizer())
    job_id = world.upload()
    worker = threading.Thread(target=world.pipeline.run, args=(job_id,))

    worker.start()
    assert reader.reached_hold.wait(5)
    world.jobs.cancel(world.user.id, job_id)
    worker.join(5)

    assert not worker.is_alive()
    assert world.job(job_id).status is JobStatus.CANCELLED
    assert world.summarizer.texts == []


def test_a_passing_summarizer_fault_is_retried_later(tmp_path: Path) -> None:
    world = World(
        tmp_path,
        ScriptedReader(["Text."]),
        RecordingSummarizer(failures=1, retry_after=7),
    )
    job_id = world.upload()

    world.pipeline.run(job_id)
    after_fault = world.job(job_id)
    world.pipeline.run(job_id)

    assert after_fault.status is JobStatus.QUEUED
    assert world.queue.sent[-1] == (job_id, 7)
    assert world.job(job_id).status is JobStatus.SUCCEEDED
    assert world.job(job_id).attempts == 2


def test_a_fault_that_persists_fails_the_job_after_the_attempt_cap(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, ScriptedReader(["Text."]), RecordingSummarizer(failures=99))
    job_id = world.upload()

    for _ in range(3):
        world.pipeline.run(job_id)

    job = world.job(job_id)
    assert job.status is JobStatus.FAILED
    assert job.error_code == "service_unavailable"
    assert "3 attempts" in job.error_message


def test_a_job_whose_worker_keeps_dying_is_failed_after_the_cap(world: World) -> None:
    job_id = world.upload()
    later = world.job(job_id).queued_at + timedelta(days=1)
    for _ in range(world.lifecycle.max_attempts):
        # Claimed, then the worker died: the heartbeat goes stale.
        stale = later + timedelta(seconds=1)
        assert world.storage.jobs.claim(job_id, later, stale_before=stale) is not None

    world.lifecycle.stale_after = timedelta(days=-2)
    world.pipeline.run(job_id)

    job = world.job(job_id)
    assert job.status is JobStatus.FAILED and job.error_code == "attempts_exhausted"
    assert world.reader.calls == 0


def test_blank_text_fails_with_a_readable_reason(tmp_path: Path) -> None:
    world = World(tmp_path, ScriptedReader(["  ", "\n"]), RecordingSummarizer())
    job_id = world.upload()

    world.pipeline.run(job_id)

    job = world.job(job_id)
    assert job.status is JobStatus.FAILED and job.error_code == "no_text"
    errors = [
        e for e in world.storage.job_events.list(job_id) if e.type is EventType.ERROR
    ]
    assert errors[0].data == {"code": "no_text", "message": job.error_message}


def test_stalled_jobs_are_sent_again(world: World) -> None:
    job_id = world.upload()
    an_hour_ago = world.job(job_id).queued_at - timedelta(hours=1)
    world.storage.jobs.transition(
        job_id, {JobStatus.QUEUED}, {"queued_at": an_hour_ago}
    )
    world.queue.sent.clear()

    resent = world.lifecycle.resend_stalled(older_than=timedelta(minutes=1))

    assert resent == 1 and world.queue.sent == [(job_id, 0)]


def test_the_sweep_leaves_a_retry_alone_until_its_delay_has_passed(
    tmp_path: Path,
) -> None:
    world = World(
        tmp_path,
        ScriptedReader(["Text."]),
        RecordingSummarizer(failures=1, retry_after=600),
    )
    job_id = world.upload()
    world.pipeline.run(job_id)
    world.queue.sent.clear()

    resent = world.lifecycle.resend_stalled(older_than=timedelta(0))

    assert world.job(job_id).status is JobStatus.QUEUED
    assert resent == 0 and world.queue.sent == []


def test_a_backlog_is_sent_again_once_per_interval_not_every_sweep(
    world: World,
) -> None:
    job_id = world.upload()
    an_hour_ago = world.job(job_id).queued_at - timedelta(hours=1)
    world.storage.jobs.transition(
        job_id, {JobStatus.QUEUED}, {"queued_at": an_hour_ago}
    )

    first = world.lifecycle.resend_stalled(older_than=timedelta(minutes=1))
    second = world.lifecycle.resend_stalled(older_than=timedelta(minutes=1))

    assert (first, second) == (1, 0)


def test_a_running_job_whose_worker_died_goes_back_to_the_queue(world: World) -> None:
    job_id = world.upload()
    claimed_at = world.job(job_id).queued_at - timedelta(hours=1)
    world.storage.jobs.claim(job_id, claimed_at, stale_before=claimed_at)

    resent = world.lifecycle.resend_stalled(older_than=timedelta(minutes=1))
    world.pipeline.run(job_id)

    assert resent == 1
    assert world.event_types(job_id).count("status:queued") == 2
    assert world.job(job_id).status is JobStatus.SUCCEEDED
    assert world.job(job_id).attempts == 2


def test_a_long_step_keeps_sending_heartbeats(tmp_path: Path) -> None:
    reader = ScriptedReader(["one.", "two."], hold_before_page=2)
    world = World(tmp_path, reader, RecordingSummarizer())
    world.pipeline = DocumentPipeline(world.gateway, reader, heartbeat_seconds=0.05)
    job_id = world.upload()
    worker = threading.Thread(target=world.pipeline.run, args=(job_id,))

    worker.start()
    assert reader.reached_hold.wait(5)
    first_beat = world.job(job_id).heartbeat_at
    time.sleep(0.3)
    later_beat = world.job(job_id).heartbeat_at
    reader.release.set()
    worker.join(5)

    assert later_beat > first_beat
    assert world.job(job_id).status is JobStatus.SUCCEEDED


def test_the_summarizer_is_not_called_for_a_job_that_is_no_longer_running(
    world: World,
) -> None:
    job_id = world.upload()

    with pytest.raises(JobCancelled):
        world.lifecycle.summarize(job_id, "Some text.")

    assert world.summarizer.texts == []
