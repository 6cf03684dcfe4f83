"""Following a job live: its stored history, then its events as they happen.

The stream subscribes before it reads the history, so nothing published in
between is lost, and it numbers what it has sent, so nothing is sent twice.
Whenever the live feed skips a number, or has been quiet for a heartbeat,
the stream reads storage for what it may have missed; a stream therefore
tells the whole truth even across a Redis restart.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass

from tasks_api.domain.errors import TooMany
from tasks_api.domain.jobs import EventType, JobEvent
from tasks_api.ports.events import EventBus, Subscription
from tasks_api.ports.storage import Storage
from tasks_api.usecases.jobs import JobService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Heartbeat:
    """Nothing happened for a while; the stream sends a comment line."""


class StreamLimits:
    """Counts the open streams of each user in this process.

    The cap is per API process: with N processes a user may hold N times
    the cap. That bounds memory per process, which is what it is for.
    """

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, user_id: str) -> None:
        with self._lock:
            if self._open[user_id] >= self.per_user:
                raise TooMany(
                    f"You already have {self.per_user} live streams open; "
                    "close some first."
                )
            self._open[user_id] += 1

    def release(self, user_id: str) -> None:
        with self._lock:
            self._open[user_id] -= 1
            if self._open[user_id] <= 0:
                del self._open[user_id]

    def total(self) -> int:
        with self._lock:
            return sum(self._open.values())


class LiveStream:
    """An open stream of events; ``close`` releases it, read or not.

    A generator's ``finally`` runs only once it has started, and a client
    can leave before the first event is read; closing this object frees the
    subscription and the user's stream slot either way.
    """

    def __init__(
        self,
        events: Generator[JobEvent | Heartbeat, None, None],
        release: Callable[[], None],
    ) -> None:
        self._events = events
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> LiveStream:
        return self

    def __next__(self) -> JobEvent | Heartbeat:
        return next(self._events)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            self._events.close()
            release()


class JobFollower:
    def __init__(
        self,
        storage: Storage,
        bus: EventBus,
        jobs: JobService,
        limits: StreamLimits,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._jobs = jobs
        self._limits = limits
        self.heartbeat_seconds = heartbeat_seconds

    def follow(
        self, owner_id: str, job_id: str, after_seq: int = 0
    ) -> LiveStream | None:
        """Check access now, then return the stream of the job's events.

        Raises ``NotFound`` for someone else's job and ``TooMany`` past the
        per-user cap before anything is streamed. Returns None when
        ``after_seq`` is (or is past) the job's final event: the client
        has seen it all and should stop reconnecting. The stream ends
        after the final status event.
        """
        self._jobs.get(owner_id, job_id)
        # Subscribed before the history is read, so nothing published in
        # between is missed; the history is read once, here.
        subscription = self._bus.subscribe(job_id)
        try:
            history = self._storage.job_events.list(job_id)
            last = history[-1].seq if history else 0
            # An id past the last event is none we sent: count from the last.
            after_seq = min(after_seq, last)
            if history and after_seq == last and _is_final(history[-1]):
                subscription.close()
                return None
            self._limits.acquire(owner_id)
        except BaseException:
            subscription.close()
            raise

        def release() -> None:
            subscription.close()
            self._limits.release(owner_id)
            log.debug("Stream of job %r closed.", job_id)

        missed = [event for event in history if event.seq > after_seq]
        return LiveStream(
            self._stream(job_id, after_seq, subscription, missed), release
        )

    def _stream(
        self,
        job_id: str,
        after_seq: int,
        subscription: Subscription,
        history: list[JobEvent],
    ) -> Generator[JobEvent | Heartbeat, None, None]:
        """``history`` (the stored events after ``after_seq``), then live ones,
        up to and including the final one."""
        sent = after_seq
        for event in history:
            yield event
            sent = event.seq
            if _is_final(event):
                return

        # Each stream keeps its own beat, so streams that got the same event
        # do not all send their heartbeats in one burst.
        period = self.heartbeat_seconds * random.uniform(0.75, 1.0)  # noqa: S311
        while True:
            for event in subscription.events(period):
                if event.seq <= sent:
                    continue
                missed = (
                    self._storage.job_events.list(job_id, sent)
                    if event.seq > sent + 1
                    else [event]
                )
                for caught_up in missed:
                    yield caught_up
                    sent = caught_up.seq
                    if _is_final(caught_up):
                        return

            # A quiet spell: catch up from storage in case the bus dropped
            # something, then tell the client the stream is alive.
            for missed in self._storage.job_events.list(job_id, sent):
                yield missed
                sent = missed.seq
                if _is_final(missed):
                    return
            yield Heartbeat()


def _is_final(event: JobEvent) -> bool:
    """The final status event of a job: the stream ends after it."""
    return event.type is EventType.STATUS and event.data.get("status") in {
        "succeeded",
        "failed",
        "cancelled",
    }
