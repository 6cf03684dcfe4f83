"""Running jobs on worker threads inside the API process (embedded mode)."""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Callable

from tasks_api.adapters.concurrency import (
    native_sleep,
    start_native_thread,
    thread_lock,
)
from tasks_api.ports.queue import JobQueue

log = logging.getLogger(__name__)


class InProcessJobQueue(JobQueue):
    """Runs each job id through ``handler`` on ``workers`` real threads.

    The threads take due job ids from a heap guarded by a real lock, so
    ``enqueue`` may be called from a request greenlet or from a job thread
    alike. An idle thread looks again every ``poll_seconds``: a job waits
    that long at most before it starts.

    Nothing is kept here that storage does not also hold: a job queued when
    the process stops is still ``queued`` in storage, and the start-up
    sweep sends it again; so is a delayed retry.
    """

    def __init__(
        self,
        handler: Callable[[str], None],
        workers: int = 1,
        poll_seconds: float = 0.05,
    ) -> None:
        self._handler = handler
        self._poll_seconds = poll_seconds
        self._lock = thread_lock()
        self._due: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._stopped = False
        for _ in range(workers):
            start_native_thread(self._work)

    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None:
        due = time.monotonic() + max(delay_seconds, 0)
        with self._lock:
            heapq.heappush(self._due, (due, next(self._order), job_id))

    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def depth(self) -> int:
        """Jobs in the heap: due ones not yet taken, and delayed retries."""
        return self.pending()

    def shutdown(self) -> None:
        self._stopped = True

    def _next_due(self) -> str | None:
        with self._lock:
            if self._due and self._due[0][0] <= time.monotonic():
                return heapq.heappop(self._due)[2]
        return None

    def _work(self) -> None:
        while not self._stopped:
            job_id = self._next_due()
            if job_id is None:
                native_sleep(self._poll_seconds)
                continue
            try:
                self._handler(job_id)
            except Exception:
                log.exception(
                    "Job %r escaped its handler; the sweep will retry it.", job_id
                )
