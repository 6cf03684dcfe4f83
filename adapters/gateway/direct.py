"""The worker's gateway as direct calls into the API's use cases (embedded)."""

from __future__ import annotations

from pathlib import Path

from tasks_api.domain.jobs import JobStage
from tasks_api.ports.files import FileStore
from tasks_api.ports.gateway import JobGateway, JobTicket
from tasks_api.usecases.jobs import JobLifecycle


class DirectJobGateway(JobGateway):
    def __init__(self, lifecycle: JobLifecycle, files: FileStore) -> None:
        self._lifecycle = lifecycle
        self._files = files

    def claim(self, job_id: str) -> JobTicket | None:
        return self._lifecycle.claim(job_id)

    def fetch_file(self, job_id: str, destination: Path) -> None:
        self._files.fetch(self._lifecycle.storage_key(job_id), destination)

    def report_progress(
        self, job_id: str, stage: JobStage, pages_done: int, pages_total: int
    ) -> None:
        self._lifecycle.report_progress(job_id, stage, pages_done, pages_total)

    def heartbeat(self, job_id: str) -> None:
        self._lifecycle.heartbeat(job_id)

    def is_cancel_requested(self, job_id: str) -> bool:
        return self._lifecycle.is_cancel_requested(job_id)

    def file_processed(self, job_id: str, text: str) -> None:
        self._lifecycle.file_processed(job_id, text)

    def summarize(self, job_id: str, text: str) -> str:
        return self._lifecycle.summarize(job_id, text)

    def summary_ready(self, job_id: str, summary: str) -> None:
        self._lifecycle.summary_ready(job_id, summary)

    def cancelled(self, job_id: str) -> None:
        self._lifecycle.cancelled(job_id)

    def failed(self, job_id: str, code: str, message: str) -> None:
        self._lifecycle.failed(job_id, code, message)

    def retry_later(self, job_id: str, reason: str, delay_seconds: float) -> None:
        self._lifecycle.retry_later(job_id, reason, delay_seconds)
