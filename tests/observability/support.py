"""Backing services that a test can take away and bring back.

``RedisServer`` is a Redis of the tests' own on a free port; the
machine's Redis on 6379 is left alone. ``StoppableStorage`` is the
in-memory store with a switch.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry
from servers import free_port

from tasks_api.adapters.storage.memory import InMemoryJobRepository, InMemoryStorage
from tasks_api.domain.jobs import JobStatus


class RedisServer:
    """``redis-server`` on 127.0.0.1 that keeps nothing on disk."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(
            port=self.port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on {self.port}")
            time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None


class StoppableStorage(InMemoryStorage):
    """The in-memory store, which a test can take down and bring back.

    While ``down`` is set, ``ping`` and counting jobs by status raise as a
    store that lost its server would; everything else keeps working.
    """

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.jobs = _StoppableJobs(self._tables, self)

    def ping(self) -> None:
        if self.down:
            raise ConnectionError("the store is down")


class _StoppableJobs(InMemoryJobRepository):
    def __init__(self, tables: Any, storage: StoppableStorage) -> None:
        super().__init__(tables)
        self._storage = storage

    def count_by_status(self) -> dict[JobStatus, int]:
        if self._storage.down:
            raise ConnectionError("the store is down")
        return super().count_by_status()


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and sorted labels."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples
