"""Job events over Redis pub/sub, so every API process sees every report.

Channels: one per job, ``<prefix><job_id>``. A process subscribes to a
job's channel while at least one of its streams follows that job, so Redis
sends each process only the events it has a reader for. A single pattern
subscription (``<prefix>*``) would need no SUBSCRIBE/UNSUBSCRIBE calls,
but then every process receives every event of every job, most of them
thrown away: traffic grows with processes times all events. Per-job
channels cost one command when a job gets its first reader in a process
and one when its last reader leaves.

Connections: each bus holds one pub/sub connection, read by one listener
(started with the first subscription) that fans events out in memory to
the ``QueueSubscription`` of every stream. Only the listener touches that
connection, since redis-py's pub/sub objects are not safe to share; other
threads ask it to (un)subscribe by publishing to the bus's own wake-up
channel over the ordinary client. The listener is a ``threading.Thread``:
a real thread normally, and a greenlet once gevent has patched the
process (as gunicorn's gevent worker does), in which case redis-py's
socket reads yield to the other greenlets.

Failures: publishing never raises; the event is already stored and a
stream reads what it missed from storage by number. If the pub/sub
connection drops, the listener reconnects with a growing delay and
subscribes to every followed job again; events published meanwhile are
lost live and recovered the same way.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from tasks_api.adapters.events.inprocess import QueueSubscription
from tasks_api.domain.jobs import EventType, JobEvent
from tasks_api.ports.events import EventBus, Subscription

log = logging.getLogger(__name__)

RECONNECT_MIN_DELAY = 0.5
RECONNECT_MAX_DELAY = 30.0


def redis_client(host: str, port: int, db: int = 0) -> redis.Redis:
    """A client with timeouts and brief retries, so a stalled Redis cannot
    hold a request for long."""
    return redis.Redis(
        host=host,
        port=port,
        db=db,
        socket_connect_timeout=2,
        socket_timeout=5,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=2),
    )


def encode_event(event: JobEvent) -> str:
    return json.dumps(
        {
            "job_id": event.job_id,
            "seq": event.seq,
            "type": event.type.value,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        },
        separators=(",", ":"),
        default=str,
    )


def decode_event(raw: str | bytes) -> JobEvent:
    """The event in a message; raises ValueError if it is not one."""
    try:
        body = json.loads(raw)
        return JobEvent(
            job_id=str(body["job_id"]),
            seq=int(body["seq"]),
            type=EventType(body["type"]),
            data=dict(body["data"]),
            created_at=datetime.fromisoformat(body["created_at"]),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a job event: {error!r}") from error


class _Link(enum.Enum):
    IDLE = "idle"  # no listener yet
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    CLOSED = "closed"


class RedisEventBus(EventBus):
    """Publishes job events on Redis and delivers them to local streams.

    ``subscribe`` returns once Redis has confirmed the job's channel (at
    most ``subscribe_timeout`` seconds), so a stream that subscribes and
    then reads the stored backlog misses nothing in between. While Redis
    is down it returns at once. Unsubscribing takes effect at the
    listener's next wake-up, within ``poll_interval`` seconds.

    Under gevent, call it from greenlets of the hub's thread (request
    handlers are); a native thread of gevent's pool must not share the
    client's cooperative sockets.
    """

    def __init__(
        self,
        client: redis.Redis,
        channel_prefix: str = "tasks-api:jobs:",
        subscribe_timeout: float = 2.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._client = client
        self._prefix = channel_prefix
        self._wake_channel = f"{channel_prefix}~bus:{uuid.uuid4().hex}"
        self._subscribe_timeout = subscribe_timeout
        self._poll_interval = poll_interval

        self._cond = threading.Condition()
        self._subscribers: dict[str, set[QueueSubscription]] = {}
        self._confirmed: set[str] = set()
        self._changed = False
        self._link = _Link.IDLE
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()
        self._delay = RECONNECT_MIN_DELAY
        self.connections_opened = 0

    def publish(self, event: JobEvent) -> None:
        channel = self._prefix + event.job_id
        started = time.perf_counter()

        try:
            receivers = self._client.publish(channel, encode_event(event))
        except (redis.RedisError, OSError) as error:
            log.warning(
                "Could not publish event %d of job %r on Redis (%s); "
                "streams will read it from storage.",
                event.seq,
                event.job_id,
                error,
            )
            return

        log.debug(
            "Published event %d of job %r to %d process(es) in %.1f ms.",
            event.seq,
            event.job_id,
            receivers,
            (time.perf_counter() - started) * 1000,
        )

    def subscribe(self, job_id: str) -> Subscription:
        subscription = QueueSubscription(job_id, self._unsubscribe)
        with self._cond:
            if self._link is _Link.CLOSED:
                raise RuntimeError("The event bus is closed.")
            subscribers = self._subscribers.setdefault(job_id, set())
            if not subscribers:
                self._changed = True
            subscribers.add(subscription)
            ready = job_id in self._confirmed
            self._start_listener()

        if not ready:
            self._wake_listener()
            self._await_confirmation(job_id)
        return subscription

    def subscriber_count(self) -> int:
        with self._cond:
            return sum(len(subs) for subs in self._subscribers.values())

    def close(self) -> None:
        """Stop the listener and drop its connection; for shutdown and tests."""
        with self._cond:
            listener = self._listener
            self._link = _Link.CLOSED
            self._cond.notify_all()
        self._stopping.set()
        if listener is not None:
            self._wake_listener()
            listener.join(timeout=self._poll_interval + 5)

    def _unsubscribe(self, subscription: QueueSubscription) -> None:
        with self._cond:
            subscribers = self._subscribers.get(subscription.job_id)
            if subscribers is None:
                return
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.job_id]
                self._changed = True

    def _start_listener(self) -> None:
        """Start the listener once; the caller holds ``_cond``."""
        if self._listener is not None:
            return
        self._link = _Link.CONNECTING
        self._listener = threading.Thread(
            target=self._listen, name="tasks-api-redis-events", daemon=True
        )
        self._listener.start()

    def _wake_listener(self) -> None:
        # If this fails the listener is reconnecting, and catches up then.
        with contextlib.suppress(redis.RedisError, OSError):
            self._client.publish(self._wake_channel, b"")

    def _await_confirmation(self, job_id: str) -> None:
        def settled() -> bool:
            return job_id in self._confirmed or self._link in (
                _Link.DOWN,
                _Link.CLOSED,
            )

        with self._cond:
            if self._cond.wait_for(settled, self._subscribe_timeout):
                return
        log.warning(
            "Redis did not confirm the channel of job %r within %.1f s; "
            "its stream may get events late, from storage.",
            job_id,
            self._subscribe_timeout,
        )

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve_one_connection()
            except (redis.RedisError, OSError) as error:
                self._link_lost()
                log.warning(
                    "Lost the Redis pub/sub connection (%s); reconnecting in %.1f s.",
                    error,
                    self._delay,
                )
            except Exception:
                self._link_lost()
                log.exception(
                    "The Redis event listener failed; restarting it in %.1f s.",
                    self._delay,
                )
            else:
                return
            self._stopping.wait(self._delay)
            self._delay = min(self._delay * 2, RECONNECT_MAX_DELAY)

    def _serve_one_connection(self) -> None:
        """Read one connection until closing; raises when it fails."""
        pubsub = self._client.pubsub()
        self.connections_opened += 1
        on_channel: set[str] = set()
        with self._cond:
            self._changed = True

        try:
            pubsub.subscribe(self._wake_channel)
            while not self._stopping.is_set():
                self._follow_wanted_jobs(pubsub, on_channel)
                message = pubsub.get_message(timeout=self._poll_interval)
                if message is not None:
                    self._handle(message)
        finally:
            pubsub.close()

    def _follow_wanted_jobs(self, pubsub: Any, on_channel: set[str]) -> None:
        """(Un)subscribe so the connection follows exactly the local readers."""
        with self._cond:
            if not self._changed:
                return
            self._changed = False
            wanted = set(self._subscribers)
            joining = wanted - on_channel
            leaving = on_channel - wanted
            self._confirmed -= leaving

        if joining:
            pubsub.subscribe(*(self._prefix + job_id for job_id in joining))
            on_channel |= joining
        if leaving:
            pubsub.unsubscribe(*(self._prefix + job_id for job_id in leaving))
            on_channel -= leaving

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = _text(message["channel"])
        if channel == self._wake_channel:
            if kind == "subscribe":
                self._link_up()
            return
        if not channel.startswith(self._prefix):
            return
        job_id = channel[len(self._prefix) :]

        if kind == "subscribe":
            with self._cond:
                if job_id in self._subscribers:
                    self._confirmed.add(job_id)
                    self._cond.notify_all()
        elif kind == "message":
            self._deliver(job_id, message["data"])

    def _deliver(self, job_id: str, raw: str | bytes) -> None:
        try:
            event = decode_event(raw)
        except ValueError as error:
            log.warning("Dropped a malformed event for job %r: %s", job_id, error)
            return

        with self._cond:
            subscribers = list(self._subscribers.get(job_id, ()))
        for subscription in subscribers:
            subscription.deliver(event)

    def _link_up(self) -> None:
        with self._cond:
            if self._link is not _Link.UP:
                log.info("Listening for job events on Redis.")
            self._link = _Link.UP
            self._delay = RECONNECT_MIN_DELAY
            self._cond.notify_all()

    def _link_lost(self) -> None:
        with self._cond:
            if self._link is not _Link.CLOSED:
                self._link = _Link.DOWN
            self._confirmed.clear()
            self._cond.notify_all()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
