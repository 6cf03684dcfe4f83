"""Job queue port: hands a job id to a worker, now or after a delay."""

from __future__ import annotations

import abc


class JobQueue(abc.ABC):
    """Delivers job ids to whatever runs the pipeline.

    Delivery is at least once: a worker that dies mid-job gets the job
    delivered again, and the pipeline's compare-and-set claim turns a
    duplicate into a no-op.
    """

    @abc.abstractmethod
    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None: ...

    def ping(self) -> None:  # noqa: B027 - optional hook, nothing to check by default
        """Raise if the queue cannot take jobs right now."""
