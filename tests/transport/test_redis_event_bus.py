"""RedisEventBus against real Redis: two buses stand for two API processes."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import redis

from tasks_api.adapters.events.redis import (
    RedisEventBus,
    decode_event,
    encode_event,
    redis_client,
)
from tasks_api.domain.jobs import EventType, JobEvent
from tasks_api.ports.events import Subscription
from transport.support import REDIS_HOST, REDIS_PORT, TcpProxy, closed_port


def event(job_id: str, seq: int) -> JobEvent:
    return JobEvent(job_id, seq, EventType.PROGRESS, {"pages_done": seq})


def take(subscription: Subscription, count: int, idle: float = 5.0) -> list[int]:
    """The numbers of the next ``count`` events, or fewer if they stop coming."""
    seqs: list[int] = []
    for received in subscription.events(idle):
        seqs.append(received.seq)
        if len(seqs) == count:
            break
    return seqs


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def name() -> str:
    """A client name, to find this test's connections in CLIENT LIST."""
    return f"tasks-api-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_bus(prefix: str, name: str) -> Iterator[Callable[[], RedisEventBus]]:
    buses: list[RedisEventBus] = []

    def make() -> RedisEventBus:
        client = redis_client(REDIS_HOST, REDIS_PORT)
        # Named before the pool opens any connection, so each one it opens,
        # the pub/sub one and its reconnections included, carries the name.
        # Naming one connection by command instead left it nameless after a
        # reconnect whenever the listener happened to take it from the pool.
        client.connection_pool.connection_kwargs["client_name"] = name
        bus = RedisEventBus(client, channel_prefix=f"{prefix}:jobs:", poll_interval=0.2)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.close()


def pubsub_connections(client: redis.Redis, name: str) -> list[dict]:
    return [
        entry
        for entry in client.client_list()
        if entry.get("name") == name and "P" in entry.get("flags", "")
    ]


def test_an_event_published_in_one_process_reaches_another_in_order(
    make_bus: Callable[[], RedisEventBus],
) -> None:
    publisher, follower = make_bus(), make_bus()
    first = follower.subscribe("job-1")
    second = follower.subscribe("job-1")

    for seq in range(1, 6):
        publisher.publish(event("job-1", seq))

    assert take(first, 5) == [1, 2, 3, 4, 5]
    assert take(second, 5) == [1, 2, 3, 4, 5]


def test_a_subscriber_gets_only_its_own_jobs_events(
    make_bus: Callable[[], RedisEventBus],
) -> None:
    publisher, follower = make_bus(), make_bus()
    mine = follower.subscribe("mine")

    publisher.publish(event("other", 1))
    publisher.publish(event("mine", 7))

    assert take(mine, 1) == [7]
    assert list(mine.events(0.3)) == []


def test_many_local_subscribers_share_one_pubsub_connection(
    make_bus: Callable[[], RedisEventBus], redis_client: redis.Redis, name: str
) -> None:
    bus = make_bus()

    subscriptions = [bus.subscribe(f"job-{n % 5}") for n in range(20)]

    connections = pubsub_connections(redis_client, name)
    assert len(connections) == 1
    assert int(connections[0]["sub"]) == 5 + 1  # five jobs and the wake-up
    assert bus.subscriber_count() == 20
    assert bus.connections_opened == 1
    for subscription in subscriptions:
        subscription.close()


def test_the_last_subscriber_leaving_releases_the_jobs_channel(
    make_bus: Callable[[], RedisEventBus], redis_client: redis.Redis, prefix: str
) -> None:
    bus = make_bus()
    channel = f"{prefix}:jobs:job-1"
    first, second = bus.subscribe("job-1"), bus.subscribe("job-1")

    def listeners() -> int:
        return dict(redis_client.pubsub_numsub(channel))[channel.encode()]

    first.close()
    time.sleep(0.5)
    assert listeners() == 1

    second.close()
    assert eventually(lambda: listeners() == 0)
    assert bus.subscriber_count() == 0


def test_a_subscriber_that_comes_back_is_subscribed_again(
    make_bus: Callable[[], RedisEventBus],
) -> None:
    publisher, follower = make_bus(), make_bus()
    follower.subscribe("job-1").close()

    again = follower.subscribe("job-1")
    publisher.publish(event("job-1", 3))

    assert take(again, 1) == [3]


def test_publishing_without_redis_logs_a_warning_and_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RedisEventBus(redis_client("127.0.0.1", closed_port()))

    with caplog.at_level(logging.WARNING):
        bus.publish(event("job-1", 1))

    assert "will read it from storage" in caplog.text


def test_subscribing_without_redis_still_gives_a_usable_subscription() -> None:
    bus = RedisEventBus(redis_client("127.0.0.1", closed_port()), poll_interval=0.2)

    subscription = bus.subscribe("job-1")

    assert list(subscription.events(0.2)) == []
    subscription.close()
    bus.close()


def test_the_listener_reconnects_after_its_connection_is_killed(
    make_bus: Callable[[], RedisEventBus], redis_client: redis.Redis, name: str
) -> None:
    publisher, follower = make_bus(), make_bus()
    subscription = follower.subscribe("job-1")
    (before,) = pubsub_connections(redis_client, name)

    redis_client.client_kill_filter(_id=before["id"])

    def resubscribed() -> bool:
        now = pubsub_connections(redis_client, name)
        return (
            len(now) == 1 and now[0]["id"] != before["id"] and int(now[0]["sub"]) == 2
        )

    assert eventually(resubscribed)
    publisher.publish(event("job-1", 9))
    assert take(subscription, 1) == [9]


def test_an_event_survives_its_trip_through_json() -> None:
    sent = JobEvent(
        "job-1",
        4,
        EventType.SUMMARY_READY,
        {"summary": "Short.", "nested": {"a": [1, 2]}},
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    )

    assert decode_event(encode_event(sent)) == sent
    assert decode_event(encode_event(sent).encode()) == sent


def test_a_malformed_message_is_refused() -> None:
    with pytest.raises(ValueError):
        decode_event(b'{"job_id": "j"}')


GEVENT_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import sys

    import gevent

    from tasks_api.adapters.events.redis import RedisEventBus, redis_client
    from tasks_api.domain.jobs import EventType, JobEvent

    prefix = sys.argv[1]
    publisher = RedisEventBus(redis_client("127.0.0.1", 6379), prefix)
    follower = RedisEventBus(redis_client("127.0.0.1", 6379), prefix)

    def follow(job_id):
        with follower.subscribe(job_id) as subscription:
            return [e.seq for e in subscription.events(2)]

    readers = [gevent.spawn(follow, "a"), gevent.spawn(follow, "b")]
    gevent.sleep(0.5)
    for seq in (1, 2, 3):
        publisher.publish(JobEvent("a", seq, EventType.PROGRESS, {}))
        publisher.publish(JobEvent("b", seq * 10, EventType.PROGRESS, {}))
    gevent.joinall(readers, timeout=10)
    print([reader.value for reader in readers])
    follower.close()
    publisher.close()
    """
)


def test_the_bus_works_in_a_process_patched_by_gevent(prefix: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", GEVENT_SCRIPT, f"{prefix}:jobs:"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[1, 2, 3], [10, 20, 30]]"


def test_the_bus_keeps_working_after_redis_goes_down_and_comes_back(
    make_bus: Callable[[], RedisEventBus], prefix: str
) -> None:
    proxy = TcpProxy(REDIS_PORT)
    proxy.start()
    follower = RedisEventBus(
        redis_client("127.0.0.1", proxy.port), f"{prefix}:jobs:", poll_interval=0.2
    )
    publisher = make_bus()
    subscription = follower.subscribe("job-1")
    publisher.publish(event("job-1", 1))
    assert take(subscription, 1) == [1]

    proxy.stop()
    time.sleep(1.0)
    publisher.publish(event("job-1", 2))  # lost live; storage has it
    proxy.start()

    def delivered() -> bool:
        publisher.publish(event("job-1", 3))
        return take(subscription, 1, idle=0.3) == [3]

    try:
        assert eventually(delivered, timeout=15)
        assert follower.connections_opened >= 2
    finally:
        follower.close()
        proxy.stop()
