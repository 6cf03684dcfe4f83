"""Job gateway port: everything the worker asks of the API about a job.

The worker holds no database credentials. In embedded mode these calls go
straight to ``JobLifecycle``; in production they are the internal HTTP
routes guarded by the worker secret.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path

from tasks_api.domain.jobs import JobStage


@dataclass(frozen=True)
class JobTicket:
    """What a worker needs to process a claimed job."""

    job_id: str
    media_type: str
    language: str
    attempt: int


class JobGateway(abc.ABC):
    @abc.abstractmethod
    def claim(self, job_id: str) -> JobTicket | None:
        """Start the job; None when it is not to be run (finished, cancelled,
        already running elsewhere, or over its attempt cap and now failed)."""

    @abc.abstractmethod
    def fetch_file(self, job_id: str, destination: Path) -> None:
        """Copy the job's uploaded file to ``destination``."""

    @abc.abstractmethod
    def report_progress(
        self, job_id: str, stage: JobStage, pages_done: int, pages_total: int
    ) -> None: ...

    @abc.abstractmethod
    def heartbeat(self, job_id: str) -> None:
        """Say the worker is still on the job, so nobody thinks it died."""

    @abc.abstractmethod
    def is_cancel_requested(self, job_id: str) -> bool: ...

    @abc.abstractmethod
    def file_processed(self, job_id: str, text: str) -> None:
        """Store the text read from the file."""

    @abc.abstractmethod
    def summarize(self, job_id: str, text: str) -> str:
        """Have the API's summarizer summarize ``text``.

        Raises ``JobCancelled`` when the job is no longer running.
        """

    @abc.abstractmethod
    def summary_ready(self, job_id: str, summary: str) -> None:
        """Store the summary and finish the job as succeeded."""

    @abc.abstractmethod
    def cancelled(self, job_id: str) -> None:
        """Finish the job as cancelled, acknowledging the request."""

    @abc.abstractmethod
    def failed(self, job_id: str, code: str, message: str) -> None:
        """Finish the job as failed with a reason a user can read."""

    @abc.abstractmethod
    def retry_later(self, job_id: str, reason: str, delay_seconds: float) -> None:
        """Put a running job back in the queue after a passing fault."""
