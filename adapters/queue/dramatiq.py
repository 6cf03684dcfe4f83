"""Jobs handed to Dramatiq workers through Redis (the production queue).

The API only sends messages; worker processes on other machines receive
them. Both sides build their broker with ``build_broker``, which also
declares the one actor, ``process_job`` on the queue ``jobs``.

Why no ``@dramatiq.actor`` at import time: that decorator binds the actor
to dramatiq's global broker, creating a default one (RabbitMQ, or Redis on
localhost) if none was set yet, so the result would depend on import
order. Here every broker is built from settings and passed explicitly: the
API holds its broker inside ``DramatiqJobQueue`` and never touches the
global. Only the worker calls ``dramatiq.set_broker``, because dramatiq's
CLI looks the broker up there after loading our module (see
``tasks_api.entrypoints.worker``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import BrokerError
from dramatiq.middleware import Retries, TimeLimit
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from tasks_api.domain.errors import TransientFailure
from tasks_api.ports.queue import JobQueue

log = logging.getLogger(__name__)

QUEUE_NAME = "jobs"
ACTOR_NAME = "process_job"

# Retries are for crashes only: the pipeline turns passing faults (an LLM
# rate limit, a flaky network) into a delayed re-send of its own.
MAX_RETRIES = 3
MIN_BACKOFF_MS = 10_000
MAX_BACKOFF_MS = 5 * 60_000
TIME_LIMIT_MS = 60 * 60_000

_job_handler: Callable[[str], None] | None = None


def set_job_handler(handler: Callable[[str], None]) -> None:
    """Register what ``process_job`` runs; the worker does this at start."""
    global _job_handler
    _job_handler = handler


def process_job(job_id: str) -> None:
    """Run the registered handler (the document pipeline) for one job.

    Declared on each broker by ``build_broker`` with ``max_retries`` 3, for
    exceptions that escape the pipeline (the API unreachable while the
    worker reports, a bug). A retried job that is still ``running`` with a
    fresh heartbeat is not claimable, so its retry is a no-op and the API's
    stalled-job sweep re-sends it once the heartbeat is stale.

    The time limit (an hour) is a last resort, not the real bound: Dramatiq
    enforces it by raising an exception in the worker thread, which cannot
    interrupt a system call such as waiting on a Tesseract process. The
    OCR adapter enforces its own per-page timeouts and kills Tesseract.
    """
    if _job_handler is None:
        raise RuntimeError(
            "No job handler is registered; the worker calls set_job_handler "
            "before it consumes messages."
        )
    _job_handler(job_id)


def quick_retry() -> Retry:
    """Two quick retries of a failed Redis call, then give up.

    redis-py's default backs off for seconds, which an upload request
    would spend waiting while Redis is down; the sweep re-sends instead.
    """
    return Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=2)


def build_broker(host: str, port: int, *, namespace: str = "tasks-api") -> RedisBroker:
    """A Redis broker with the ``process_job`` actor declared on it.

    Middleware is kept to what a job needs: a time limit and retries.
    Dramatiq's defaults also bring age limits, callbacks and pipelines,
    which nothing here uses. ``namespace`` prefixes every Redis key.
    """
    broker = RedisBroker(
        host=host,
        port=port,
        namespace=namespace,
        middleware=[
            TimeLimit(time_limit=TIME_LIMIT_MS),
            Retries(
                max_retries=MAX_RETRIES,
                min_backoff=MIN_BACKOFF_MS,
                max_backoff=MAX_BACKOFF_MS,
            ),
        ],
        socket_connect_timeout=5,
        socket_timeout=30,
        socket_keepalive=True,
        health_check_interval=30,
        retry=quick_retry(),
    )
    dramatiq.actor(
        process_job,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        max_retries=MAX_RETRIES,
        time_limit=TIME_LIMIT_MS,
    )
    return broker


class DramatiqJobQueue(JobQueue):
    """Sends each job id as a ``process_job`` message on the ``jobs`` queue.

    A delayed message waits in Redis (Dramatiq's delay queue) until it is
    due, then a worker picks it up; delays of seven days or more are
    refused by Dramatiq.
    """

    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker
        self._actor = broker.get_actor(ACTOR_NAME)

    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None:
        delay_ms = round(delay_seconds * 1000) if delay_seconds > 0 else None
        started = time.perf_counter()

        try:
            self._actor.send_with_options(args=(job_id,), delay=delay_ms)
        except (redis.RedisError, BrokerError) as error:
            raise TransientFailure(
                f"The job queue could not take job {job_id!r}: {error}",
                job_id=job_id,
            ) from error

        log.info(
            "Queued job %r on Redis (delay %.0f s) in %.0f ms.",
            job_id,
            delay_seconds,
            (time.perf_counter() - started) * 1000,
        )

    def ping(self) -> None:
        """Raise unless Redis answers."""
        self._broker.client.ping()

    def depth(self) -> int:
        """Messages waiting on ``jobs``, and delayed ones not yet due.

        Read from Dramatiq's keys in one round trip: the list of ids
        waiting on the queue and the hash of delayed messages, which keeps
        a delayed message until it is due and moved to the queue. Messages
        a worker has already reserved are not counted.
        """
        prefix = f"{self._broker.namespace}:{QUEUE_NAME}"
        with self._broker.client.pipeline(transaction=False) as pipe:
            pipe.llen(prefix)
            pipe.hlen(f"{prefix}.DQ.msgs")
            waiting, delayed = pipe.execute()
        return int(waiting) + int(delayed)
