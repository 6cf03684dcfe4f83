"""Event bus port: live delivery of job events to the streams following them.

Events are stored with the job before they are published (see
``JobEventRepository``), so the bus only has to be fast, not reliable: a
stream that missed something while the bus was down reads it back from
storage by number.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator

from tasks_api.domain.jobs import JobEvent


class Subscription(abc.ABC):
    """A stream's view of one job's live events."""

    @abc.abstractmethod
    def events(self, timeout: float) -> Iterator[JobEvent]:
        """Yield events as they arrive; stop after ``timeout`` seconds idle."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop receiving; must be called, and may be called twice."""

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class EventBus(abc.ABC):
    @abc.abstractmethod
    def publish(self, event: JobEvent) -> None:
        """Send an event to every live subscriber of its job, on any process.

        Never raises for a delivery failure: the event is already stored.
        """

    @abc.abstractmethod
    def subscribe(self, job_id: str) -> Subscription: ...
