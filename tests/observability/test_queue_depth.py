"""Queue depth, as the metrics endpoint reads it from each queue."""

from __future__ import annotations

from observability.support import RedisServer
from tasks_api.adapters.queue.dramatiq import DramatiqJobQueue, build_broker
from tasks_api.adapters.queue.inprocess import InProcessJobQueue


def test_the_in_process_queue_counts_delayed_jobs_until_they_run() -> None:
    ran: list[str] = []
    queue = InProcessJobQueue(ran.append, workers=1, poll_seconds=0.01)

    queue.enqueue("later-1", delay_seconds=3600)
    queue.enqueue("later-2", delay_seconds=3600)
    depth = queue.depth()
    queue.shutdown()

    assert depth == 2
    assert ran == []


def test_the_dramatiq_queue_counts_waiting_and_delayed_messages(
    redis_server: RedisServer,
) -> None:
    broker = build_broker("127.0.0.1", redis_server.port, namespace="depth-test")
    queue = DramatiqJobQueue(broker)
    empty = queue.depth()

    queue.enqueue("job-1")
    queue.enqueue("job-2")
    queue.enqueue("job-3", delay_seconds=600)
    depth = queue.depth()
    broker.close()

    assert empty == 0
    assert depth == 3
