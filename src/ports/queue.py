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

    def depth(self) -> int:
        """How many jobs wait to be started, delayed ones included.

        For metrics. Not abstract, so that test doubles need not answer;
        a queue that cannot tell raises ``NotImplementedError``, the
        default here, and the metric is left out.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot tell its depth.")
