"""The bench's side of the event path: seed jobs, emit events, plain Redis.

Events are stored in the server's SQLite file and published on Redis by
``JobEvents.emit`` itself, over the same adapters the service uses, so
what the streams receive is what a worker's report would produce. Each
measured event carries the sender's ``time.monotonic()`` in its data.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis

from tasks_api.adapters.events.redis import (
    RedisEventBus,
    encode_event,
    redis_client,
)
from tasks_api.adapters.storage.sqlite import SqliteStorage
from tasks_api.domain.jobs import Attachment, EventType, Job, JobEvent
from tasks_api.usecases.jobs import JobEvents

PAGES_TOTAL = 1000


def progress_data(round_number: int) -> dict:
    """A progress event as a worker reports one, plus the bench's stamp."""
    pages_done = round_number % PAGES_TOTAL
    return {
        "stage": "ocr",
        "pages_done": pages_done,
        "pages_total": PAGES_TOTAL,
        "percent": 90 * pages_done // PAGES_TOTAL,
        "bench_round": round_number,
        "bench_sent": time.monotonic(),
    }


@dataclass(frozen=True)
class Owner:
    user_id: str
    project_id: str
    task_id: str


class FanoutPublisher:
    """Stores then publishes job events exactly as ``JobEvents.emit`` does."""

    def __init__(self, sqlite_path: Path, redis_host: str, redis_port: int) -> None:
        self.storage = SqliteStorage(sqlite_path)
        self.client = redis_client(redis_host, redis_port)
        self.bus = RedisEventBus(self.client)
        self.events = JobEvents(self.storage, self.bus)

    def queued_job(self, owner: Owner) -> str:
        """A job that stays queued: stored directly, never sent to a queue.

        Its attachment and job rows are what an upload stores, and its
        first event is the upload's ``status: queued``; no file exists
        and no worker will look for one.
        """
        attachment = Attachment(
            owner_id=owner.user_id,
            task_id=owner.task_id,
            project_id=owner.project_id,
            filename="bench.txt",
            media_type="text/plain",
            size=0,
            storage_key=f"bench-sse/{uuid.uuid4().hex}",
            language="eng",
        )
        job = Job(
            owner_id=owner.user_id,
            task_id=owner.task_id,
            attachment_id=attachment.id,
            storage_key=attachment.storage_key,
            media_type=attachment.media_type,
            language=attachment.language,
        )
        attachment.job_id = job.id
        self.storage.attachments.add(attachment)
        self.storage.jobs.add(job)
        self.events.status(job)
        return job.id

    def emit_round(self, job_ids: list[str], round_number: int) -> int:
        """One progress event per job; returns the bytes of the last message."""
        size = 0
        for job_id in job_ids:
            event = self.events.emit(
                job_id, EventType.PROGRESS, progress_data(round_number)
            )
            size = len(encode_event(event))
        return size

    def close(self) -> None:
        self.bus.close()
        self.client.close()
        self.storage.close()


def plain_redis_latencies(
    client: redis.Redis, count: int, interval: float, timeout: float = 10.0
) -> tuple[list[float], int]:
    """Publish-to-arrival latency through Redis alone, to a bare subscriber.

    The subscriber is redis-py's ``PubSub`` on its own thread, reading a
    channel of its own; each message is a job event encoded as the bus
    encodes one, with the same fields, so the payload is the same size.
    Returns the latencies in seconds and the payload size in bytes.
    """
    channel = f"bench-sse:plain:{uuid.uuid4().hex}"
    pubsub = client.pubsub()
    pubsub.subscribe(channel)
    confirmation = pubsub.get_message(timeout=timeout)
    if confirmation is None or confirmation["type"] != "subscribe":
        pubsub.close()
        raise RuntimeError("Redis did not confirm the bare subscription")

    latencies: list[float] = []
    finished = threading.Event()

    def listen() -> None:
        deadline = time.monotonic() + timeout + count * interval
        while len(latencies) < count and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            arrived = time.monotonic()
            if message is None or message["type"] != "message":
                continue
            body = json.loads(message["data"])
            latencies.append(arrived - body["data"]["bench_sent"])
        finished.set()

    listener = threading.Thread(target=listen, name="bench-plain-redis", daemon=True)
    listener.start()
    size = 0
    try:
        for number in range(1, count + 1):
            event = JobEvent(
                job_id=str(uuid.uuid4()),
                seq=number,
                type=EventType.PROGRESS,
                data=progress_data(number),
            )
            payload = encode_event(event)
            size = len(payload)
            client.publish(channel, payload)
            time.sleep(interval)
        finished.wait(timeout)
    finally:
        listener.join(timeout)
        pubsub.close()
    return latencies, size
