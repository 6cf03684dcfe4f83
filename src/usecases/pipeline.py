"""The document pipeline a worker runs for one job.

    claim -> fetch the file -> read it page by page -> report the text
          -> summarize -> report the summary

It checks for cancellation between pages (the reader also ends a long
Tesseract call) and again before summarizing, so a cancelled job never
reaches the summarizer. Every outcome goes back through the gateway, which
is either the API's own use cases or its internal HTTP routes.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from tasks_api.domain.errors import JobCancelled, TransientFailure, UnreadableDocument
from tasks_api.domain.jobs import JobStage
from tasks_api.ports.gateway import JobGateway, JobTicket
from tasks_api.ports.ocr import TextReader

log = logging.getLogger(__name__)


class CancelCheck:
    """Asks the gateway whether a job was cancelled, at most every ``interval`` s.

    The reader asks many times a second while Tesseract runs; over HTTP each
    question is a request, so answers are reused for a short while.
    """

    def __init__(self, gateway: JobGateway, job_id: str, interval: float = 0.5) -> None:
        self._gateway = gateway
        self._job_id = job_id
        self._interval = interval
        self._asked_at = float("-inf")
        self._cancelled = False

    def __call__(self) -> bool:
        if self._cancelled:
            return True
        now = time.monotonic()
        if now - self._asked_at >= self._interval:
            self._asked_at = now
            self._cancelled = self._gateway.is_cancel_requested(self._job_id)
        return self._cancelled


class KeepAlive:
    """Tells the gateway every ``every`` seconds that a job is still being worked on.

    Progress reports say so too, but a single long step (a slow summary, a
    dense page) sends none, and a job silent for ``JOB_STALE_SECONDS`` is
    taken for orphaned and handed to another worker.
    """

    def __init__(self, gateway: JobGateway, job_id: str, every: float) -> None:
        self._gateway = gateway
        self._job_id = job_id
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"keep-alive-{job_id}", daemon=True
        )

    def __enter__(self) -> KeepAlive:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._gateway.heartbeat(self._job_id)
            except Exception:
                log.warning(
                    "Could not send a heartbeat for job %r; trying again in %.0f s.",
                    self._job_id,
                    self._every,
                    exc_info=True,
                )


class DocumentPipeline:
    """Runs one job to an end: succeeded, failed, cancelled or retried later.

    ``max_attempts`` bounds the retries after passing faults (an LLM 429, a
    network error); the delay doubles from ``base_delay`` unless the
    service asked for a specific one. While a job runs, a heartbeat goes
    out every ``heartbeat_seconds``.
    """

    def __init__(
        self,
        gateway: JobGateway,
        reader: TextReader,
        max_attempts: int = 3,
        base_delay: float = 5.0,
        max_delay: float = 300.0,
        heartbeat_seconds: float = 60.0,
    ) -> None:
        self._gateway = gateway
        self._heartbeat_seconds = heartbeat_seconds
        self._reader = reader
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay

    def run(self, job_id: str) -> None:
        ticket = self._gateway.claim(job_id)
        if ticket is None:
            return

        started = time.perf_counter()
        try:
            with KeepAlive(self._gateway, job_id, self._heartbeat_seconds):
                self._process(ticket)
        except JobCancelled:
            self._gateway.cancelled(job_id)
        except UnreadableDocument as error:
            self._gateway.failed(job_id, error.code, error.message)
        except TransientFailure as error:
            self._retry_or_give_up(ticket, error)
        except Exception:
            log.exception("Job %r hit an unexpected error; failing it.", job_id)
            self._gateway.failed(
                job_id,
                "internal_error",
                "Something went wrong while processing this file.",
            )
        log.info("Job %r handled in %.1f s.", job_id, time.perf_counter() - started)

    def _process(self, ticket: JobTicket) -> None:
        job_id = ticket.job_id
        is_cancelled = CancelCheck(self._gateway, job_id)

        with tempfile.TemporaryDirectory(prefix="tasks-api-job-") as workdir:
            path = Path(workdir) / "upload"
            self._gateway.report_progress(job_id, JobStage.DOWNLOADING, 0, 0)
            self._gateway.fetch_file(job_id, path)
            text = self._read(ticket, path, is_cancelled)

        if not text.strip():
            raise UnreadableDocument("no_text", "No text could be read from this file.")
        self._gateway.file_processed(job_id, text)

        if self._gateway.is_cancel_requested(job_id):
            raise JobCancelled("Cancelled before summarizing.")
        self._gateway.report_progress(job_id, JobStage.SUMMARIZING, 0, 0)
        summary = self._gateway.summarize(job_id, text)
        self._gateway.summary_ready(job_id, summary)

    def _read(self, ticket: JobTicket, path: Path, is_cancelled: CancelCheck) -> str:
        pages: list[str] = []
        for page in self._reader.read(
            path, ticket.media_type, ticket.language, is_cancelled
        ):
            pages.append(page.text)
            self._gateway.report_progress(
                ticket.job_id, JobStage.OCR, page.number, page.total
            )
            if is_cancelled():
                raise JobCancelled("Cancelled between pages.")
        return "\n\n".join(pages)

    def _retry_or_give_up(self, ticket: JobTicket, error: TransientFailure) -> None:
        if ticket.attempt >= self._max_attempts:
            self._gateway.failed(
                ticket.job_id,
                "service_unavailable",
                f"{error.message} It still failed after {ticket.attempt} attempts.",
            )
            return

        delay = error.retry_after or self._base_delay * 2 ** (ticket.attempt - 1)
        self._gateway.retry_later(
            ticket.job_id, error.message, min(delay, self._max_delay)
        )
