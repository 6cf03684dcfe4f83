"""Fan-out of job events inside one process, for the embedded mode."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Iterator

from tasks_api.adapters.concurrency import Wakeup, make_wakeup, thread_lock
from tasks_api.domain.jobs import JobEvent
from tasks_api.ports.events import EventBus, Subscription

log = logging.getLogger(__name__)


class QueueSubscription(Subscription):
    """Events for one job, buffered until the stream reads them.

    ``deliver`` may be called from any thread; the buffer is bounded, and a
    subscriber that falls that far behind loses the oldest events live.
    That is safe because streams number events and fill gaps from storage.
    """

    def __init__(
        self,
        job_id: str,
        on_close: collections.abc.Callable[[QueueSubscription], None],
        buffer: int = 1000,
    ) -> None:
        self.job_id = job_id
        self._buffer: collections.deque[JobEvent] = collections.deque(maxlen=buffer)
        self._wakeup: Wakeup = make_wakeup()
        self._on_close = on_close
        self._closed = False

    def deliver(self, event: JobEvent) -> None:
        self._buffer.append(event)
        self._wakeup.set()

    def events(self, timeout: float) -> Iterator[JobEvent]:
        deadline = time.monotonic() + timeout
        while not self._closed:
            while self._buffer:
                yield self._buffer.popleft()
                deadline = time.monotonic() + timeout

            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wakeup.clear()
            if not self._buffer:
                self._wakeup.wait(remaining)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._on_close(self)
        self._wakeup.close()


class InProcessEventBus(EventBus):
    """Delivers events to the subscribers of this process only.

    Good for the embedded mode, where the worker runs inside the API
    process; with workers elsewhere, use the Redis bus.
    """

    def __init__(self) -> None:
        self._lock = thread_lock()
        self._subscribers: dict[str, set[QueueSubscription]] = {}

    def publish(self, event: JobEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(event.job_id, ()))
        for subscription in subscribers:
            subscription.deliver(event)

    def subscribe(self, job_id: str) -> Subscription:
        subscription = QueueSubscription(job_id, self._unsubscribe)
        with self._lock:
            self._subscribers.setdefault(job_id, set()).add(subscription)
        return subscription

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subscribers.values())

    def _unsubscribe(self, subscription: QueueSubscription) -> None:
        with self._lock:
            subs = self._subscribers.get(subscription.job_id)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._subscribers[subscription.job_id]
