"""Fixtures for the fault tests: a Redis of the test's own, a data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.processes import RedisServer, redis_server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on a free port, for this test alone."""
    with redis_server(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The API processes' DATA_DIR: their SQLite file lives here."""
    path = tmp_path / "data"
    path.mkdir()
    return path
