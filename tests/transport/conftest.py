"""Fixtures for the transport tests: real Redis on 127.0.0.1:6379, cleaned up.

Redis must be running: a test that cannot reach it fails, it is not skipped.
Every test works under its own random key and channel prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from transport.support import REDIS_HOST, REDIS_PORT


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)
    client.ping()  # No Redis: fail here, loudly.
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key and channel prefix of this test's own; its keys go afterwards."""
    name = f"tasks-api-test-{uuid.uuid4().hex[:12]}"
    yield name
    for key in redis_client.scan_iter(f"{name}*"):
        redis_client.delete(key)
