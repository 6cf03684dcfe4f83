"""Jobs as their owners see them, and as the worker moves them along.

``JobService`` answers users: read, list, cancel, replay events.
``JobLifecycle`` is the API side of the worker's reports: every method is
a compare-and-set on the stored job followed by a stored, published event,
so a report that arrives twice, late, or after a cancel changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tasks_api.domain.errors import Conflict, JobCancelled, NotFound
from tasks_api.domain.jobs import (
    UNFINISHED,
    EventType,
    Job,
    JobEvent,
    JobStage,
    JobStatus,
)
from tasks_api.domain.listing import Page, PageRequest
from tasks_api.domain.model import utcnow
from tasks_api.ports.events import EventBus
from tasks_api.ports.gateway import JobTicket
from tasks_api.ports.llm import Summarizer
from tasks_api.ports.queue import JobQueue
from tasks_api.ports.storage import Storage

log = logging.getLogger(__name__)


class JobEvents:
    """Stores a job's event under its next number, then publishes it live."""

    def __init__(self, storage: Storage, bus: EventBus) -> None:
        self._storage = storage
        self._bus = bus

    def emit(self, job_id: str, type: EventType, data: Mapping[str, Any]) -> JobEvent:
        event = self._storage.job_events.append(job_id, type, data)
        self._bus.publish(event)
        return event

    def status(self, job: Job, **extra: Any) -> JobEvent:
        return self.emit(job.id, EventType.STATUS, {**status_data(job), **extra})


def status_data(job: Job) -> dict[str, Any]:
    return {
        "status": job.status.value,
        "stage": job.stage.value if job.stage else None,
        "progress": job.progress,
        "attempts": job.attempts,
    }


class JobService:
    def __init__(self, storage: Storage, events: JobEvents) -> None:
        self._storage = storage
        self._events = events

    def get(self, owner_id: str, job_id: str) -> Job:
        job = self._storage.jobs.get_for_owner(owner_id, job_id)
        if job is None:
            raise NotFound("No such job.", job_id=job_id)
        return job

    def list_by_task(self, owner_id: str, task_id: str, page: PageRequest) -> Page[Job]:
        if self._storage.tasks.get(owner_id, task_id) is None:
            raise NotFound("No such task.", task_id=task_id)
        return self._storage.jobs.list_by_task(owner_id, task_id, page)

    def events(self, owner_id: str, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        self.get(owner_id, job_id)
        return self._storage.job_events.list(job_id, after_seq)

    def cancel(self, owner_id: str, job_id: str) -> Job:
        """Cancel a job: at once if queued, at its next checkpoint if running.

        Cancelling a cancelled job again is harmless; cancelling one that
        succeeded or failed is a conflict.
        """
        job = self.get(owner_id, job_id)
        if job.status is JobStatus.CANCELLED:
            return job
        if job.status.finished:
            raise Conflict(f"The job has already {job.status.value}.", job_id=job_id)

        cancelled = self._storage.jobs.transition(
            job_id,
            {JobStatus.QUEUED},
            {
                "status": JobStatus.CANCELLED,
                "cancel_requested": True,
                "finished_at": utcnow(),
            },
        )
        if cancelled is not None:
            log.info("Cancelled queued job %r.", job_id)
            self._events.status(cancelled)
            return cancelled

        requested = self._storage.jobs.request_cancel(job_id)
        if requested is None:
            # It finished between our read and our write.
            return self.cancel(owner_id, job_id)
        log.info("Asked running job %r to stop.", job_id)
        self._events.status(requested, cancel_requested=True)
        return requested


class JobLifecycle:
    """What the worker reports about a job, applied to storage.

    ``max_attempts`` caps how often a job is started: a document that kills
    its worker every time is failed instead of redelivered forever.
    ``stale_after`` is how long a running job may go without a heartbeat
    before it counts as orphaned by a dead worker.
    """

    def __init__(
        self,
        storage: Storage,
        events: JobEvents,
        summarizer: Summarizer,
        queue: JobQueue,
        max_attempts: int = 3,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._storage = storage
        self._events = events
        self._summarizer = summarizer
        self._queue = queue
        self.max_attempts = max_attempts
        self.stale_after = stale_after

    def claim(self, job_id: str) -> JobTicket | None:
        now = utcnow()
        job = self._storage.jobs.claim(job_id, now, stale_before=now - self.stale_after)
        if job is None:
            log.info("Job %r is not claimable; skipping the delivery.", job_id)
            return None

        if job.cancel_requested:
            self.cancelled(job_id)
            return None
        if job.attempts > self.max_attempts:
            log.warning(
                "Job %r was started %d times without finishing; failing it.",
                job_id,
                job.attempts - 1,
            )
            self.failed(
                job_id,
                "attempts_exhausted",
                "Processing this file stopped unexpectedly "
                f"{job.attempts - 1} times, so it was given up.",
            )
            return None

        log.info("Job %r started, attempt %d.", job_id, job.attempts)
        self._events.status(job)
        return JobTicket(
            job_id=job.id,
            media_type=job.media_type,
            language=job.language,
            attempt=job.attempts,
        )

    def storage_key(self, job_id: str) -> str:
        job = self._storage.jobs.get(job_id)
        if job is None:
            raise NotFound("No such job.", job_id=job_id)
        return job.storage_key

    def report_progress(
        self, job_id: str, stage: JobStage, pages_done: int, pages_total: int
    ) -> None:
        job = self._storage.jobs.report_progress(
            job_id, JobStage(stage), pages_done, pages_total, utcnow()
        )
        if job is None:
            return

        self._events.emit(
            job_id,
            EventType.PROGRESS,
            {
                "stage": job.stage.value if job.stage else None,
                "pages_done": job.pages_done,
                "pages_total": job.pages_total,
                "percent": job.progress,
            },
        )

    def is_cancel_requested(self, job_id: str) -> bool:
        job = self._storage.jobs.get(job_id)
        return job is None or job.cancel_requested or job.status.finished

    def file_processed(self, job_id: str, text: str) -> None:
        self._storage.jobs.transition(
            job_id, {JobStatus.RUNNING}, {"text": text, "heartbeat_at": utcnow()}
        )

    def summarize(self, job_id: str, text: str) -> str:
        """Summarize for the worker, so only the API holds the LLM key.

        Only for a running job: a job cancelled, finished or handed to
        another worker meanwhile gets no model call.
        """
        job = self._storage.jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or job.cancel_requested:
            raise JobCancelled("The job is no longer running.")
        return self._summarizer.summarize(text)

    def summary_ready(self, job_id: str, summary: str) -> None:
        job = self._finish(job_id, JobStatus.SUCCEEDED, summary=summary, stage=None)
        if job is None:
            return

        log.info("Job %r succeeded.", job_id)
        self._events.emit(job_id, EventType.SUMMARY_READY, {"summary": summary})
        self._events.status(job)

    def cancelled(self, job_id: str) -> None:
        job = self._finish(job_id, JobStatus.CANCELLED, cancel_requested=True)
        if job is not None:
            log.info("Job %r stopped after being cancelled.", job_id)
            self._events.status(job)

    def failed(self, job_id: str, code: str, message: str) -> None:
        job = self._finish(
            job_id, JobStatus.FAILED, error_code=code, error_message=message
        )
        if job is None:
            return

        log.warning("Job %r failed (%s): %s", job_id, code, message)
        self._events.emit(job_id, EventType.ERROR, {"code": code, "message": message})
        self._events.status(job)

    def retry_later(self, job_id: str, reason: str, delay_seconds: float) -> None:
        now = utcnow()
        job = self._storage.jobs.transition(
            job_id,
            {JobStatus.RUNNING},
            {
                "status": JobStatus.QUEUED,
                "stage": None,
                "heartbeat_at": None,
                # The sweep leaves it alone until the delay has passed.
                "due_at": now + timedelta(seconds=delay_seconds),
            },
        )
        if job is None:
            return

        log.warning(
            "Job %r hit a passing fault (%s); retrying in %.0f s.",
            job_id,
            reason,
            delay_seconds,
        )
        self._events.status(job, retry_in_seconds=delay_seconds, reason=reason)
        self._queue.enqueue(job_id, delay_seconds)

    def heartbeat(self, job_id: str) -> None:
        """The worker is still on this running job (a long page, a long summary)."""
        self._storage.jobs.transition(
            job_id, {JobStatus.RUNNING}, {"heartbeat_at": utcnow()}
        )

    def resend_stalled(
        self, older_than: timedelta, beat_older_than: timedelta | None = None
    ) -> int:
        """Re-send queued jobs nobody picked up and running ones whose worker died.

        The queue may have lost them (Redis restarted empty, say); sending
        one that is still on its way is harmless, since a claim is atomic.
        Each re-sent job is due again from now, so a backlog is sent once
        per ``older_than``, not on every sweep. A running job counts as
        orphaned once its heartbeat is older than ``beat_older_than`` (by
        default ``stale_after``); it goes back to the queue, keeping its
        attempts, so the attempt cap still ends a job that kills workers.
        """
        now = utcnow()
        beat_limit = self.stale_after if beat_older_than is None else beat_older_than
        stalled = self._storage.jobs.find_stalled(
            queued_before=now - older_than, beat_before=now - beat_limit
        )

        resent = 0
        for job in stalled:
            requeued = self._storage.jobs.transition(
                job.id,
                {job.status},
                {
                    "status": JobStatus.QUEUED,
                    "stage": None,
                    "heartbeat_at": None,
                    "due_at": now,
                },
            )
            if requeued is None:
                continue
            if job.status is JobStatus.RUNNING:
                log.warning(
                    "Job %r lost its worker (last heartbeat %s); queued again.",
                    job.id,
                    job.heartbeat_at,
                )
                self._events.status(requeued, reason="Its worker stopped; retrying.")
            self._queue.enqueue(job.id)
            resent += 1

        if resent:
            log.warning("Re-sent %d stalled job(s) to the queue.", resent)
        return resent

    def _finish(self, job_id: str, status: JobStatus, **changes: Any) -> Job | None:
        return self._storage.jobs.transition(
            job_id,
            UNFINISHED,
            {"status": status, "finished_at": utcnow(), **changes},
        )
