"""DramatiqJobQueue against real Redis and an in-process Dramatiq worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from tasks_api.adapters.queue import dramatiq as dramatiq_queue
from tasks_api.adapters.queue.dramatiq import (
    ACTOR_NAME,
    QUEUE_NAME,
    DramatiqJobQueue,
    build_broker,
    set_job_handler,
)
from transport.support import REDIS_HOST, REDIS_PORT, closed_port


class Received:
    """Job ids the handler saw, with the monotonic time each arrived."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, float]] = []
        self._changed = threading.Condition()

    def __call__(self, job_id: str) -> None:
        with self._changed:
            self.jobs.append((job_id, time.monotonic()))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 20) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.jobs) >= count, timeout)
            return [job_id for job_id, _ in self.jobs]


@pytest.fixture
def broker(prefix: str) -> Iterator[RedisBroker]:
    broker = build_broker(REDIS_HOST, REDIS_PORT, namespace=prefix)
    yield broker
    broker.client.close()


@pytest.fixture
def received(broker: RedisBroker) -> Iterator[Received]:
    handler = Received()
    set_job_handler(handler)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield handler
    worker.stop()
    dramatiq_queue._job_handler = None


def test_build_broker_declares_process_job_on_the_jobs_queue(
    broker: RedisBroker,
) -> None:
    actor = broker.get_actor(ACTOR_NAME)

    assert actor.queue_name == QUEUE_NAME
    assert actor.options["max_retries"] == 3
    assert QUEUE_NAME in broker.get_declared_queues()


def test_a_queued_job_reaches_the_registered_handler(
    broker: RedisBroker, received: Received
) -> None:
    queue = DramatiqJobQueue(broker)

    queue.enqueue("job-1")
    queue.enqueue("job-2")

    assert sorted(received.wait_for(2)) == ["job-1", "job-2"]


def test_a_delayed_job_arrives_but_not_before_it_is_due(
    broker: RedisBroker, received: Received
) -> None:
    queue = DramatiqJobQueue(broker)
    sent_at = time.monotonic()

    queue.enqueue("later", delay_seconds=1.0)

    assert received.wait_for(1) == ["later"]
    assert received.jobs[0][1] - sent_at >= 1.0


def test_ping_answers_while_redis_is_up(broker: RedisBroker) -> None:
    DramatiqJobQueue(broker).ping()


def test_enqueue_without_redis_raises_a_transient_failure() -> None:
    from tasks_api.domain.errors import TransientFailure

    queue = DramatiqJobQueue(build_broker("127.0.0.1", closed_port()))

    with pytest.raises(TransientFailure):
        queue.enqueue("job-1")


def test_the_actor_refuses_to_run_without_a_handler() -> None:
    dramatiq_queue._job_handler = None

    with pytest.raises(RuntimeError, match="set_job_handler"):
        dramatiq_queue.process_job("job-1")


def test_building_a_broker_leaves_dramatiqs_global_broker_alone(prefix: str) -> None:
    before = dramatiq.broker.global_broker

    build_broker(REDIS_HOST, REDIS_PORT, namespace=prefix)

    assert dramatiq.broker.global_broker is before
