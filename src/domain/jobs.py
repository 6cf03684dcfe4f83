"""Attachments, the jobs that read them, and the events a job emits.

A job moves ``queued -> running -> succeeded | failed | cancelled``. A
running job may also go back to ``queued`` to be retried after a passing
fault. Every move is a compare-and-set in storage (see ``JobRepository``),
so a duplicate delivery or a race between a worker and a cancel changes
nothing twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tasks_api.domain.model import new_id, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
UNFINISHED = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


class JobStage(enum.StrEnum):
    DOWNLOADING = "downloading"
    OCR = "ocr"
    SUMMARIZING = "summarizing"


class EventType(enum.StrEnum):
    """The events a client sees on a job's live stream."""

    PROGRESS = "progress"
    STATUS = "status"
    SUMMARY_READY = "summary_ready"
    ERROR = "error"


@dataclass
class Attachment:
    owner_id: str
    task_id: str
    project_id: str
    filename: str
    media_type: str
    size: int
    storage_key: str
    language: str
    id: str = field(default_factory=new_id)
    job_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class Job:
    owner_id: str
    task_id: str
    attachment_id: str
    storage_key: str
    media_type: str
    language: str
    id: str = field(default_factory=new_id)
    status: JobStatus = JobStatus.QUEUED
    stage: JobStage | None = None
    pages_done: int = 0
    pages_total: int = 0
    error_code: str | None = None
    error_message: str | None = None
    text: str | None = None
    summary: str | None = None
    attempts: int = 0
    cancel_requested: bool = False
    queued_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Moved on by every report of a running job; a running job whose
    # heartbeat is old lost its worker and may be claimed again.
    heartbeat_at: datetime | None = None
    # A queued job is not due before this (a retry's delay, or the last
    # time the sweep sent it); None means it was due when it was queued.
    due_at: datetime | None = None

    @property
    def progress(self) -> int:
        """0-100: reading takes the first 90, summarizing the rest."""
        if self.status is JobStatus.SUCCEEDED:
            return 100
        if self.stage is JobStage.SUMMARIZING:
            return 90
        if self.stage is JobStage.OCR and self.pages_total:
            return 90 * self.pages_done // self.pages_total
        return 0


@dataclass(frozen=True)
class JobEvent:
    """One numbered event of a job; ``seq`` counts up from 1 for each job."""

    job_id: str
    seq: int
    type: EventType
    data: dict[str, Any]
    created_at: datetime = field(default_factory=utcnow)
