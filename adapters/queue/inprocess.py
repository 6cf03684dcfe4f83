"""Running jobs on worker threads inside the API process (embedded mode)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tasks_api.adapters.concurrency import native_thread_pool
from tasks_api.ports.queue import JobQueue

log = logging.getLogger(__name__)


class InProcessJobQueue(JobQueue):
    """Runs each job id through ``handler`` on a pool of real threads.

    Nothing is kept in memory that storage does not also hold: a job queued
    here when the process stops is still ``queued`` in storage, and the
    start-up sweep sends it again. Delayed retries wait on daemon timers,
    which die with the process; the sweep covers those too.
    """

    def __init__(self, handler: Callable[[str], None], workers: int = 1) -> None:
        self._handler = handler
        self._pool = native_thread_pool(workers, "tasks-api-job")

    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None:
        if delay_seconds > 0:
            timer = threading.Timer(delay_seconds, self.enqueue, args=(job_id,))
            timer.daemon = True
            timer.start()
            return
        self._pool.submit(self._run, job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: str) -> None:
        try:
            self._handler(job_id)
        except Exception:
            log.exception(
                "Job %r escaped its handler; the sweep will retry it.", job_id
            )
