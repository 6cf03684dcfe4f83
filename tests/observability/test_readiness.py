"""/readyz fails while storage or Redis is gone and recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts import TEST_SECRET
from dependency_injector import providers
from flask.testing import FlaskClient

from observability.support import RedisServer, StoppableStorage, scrape
from tasks_api.entrypoints.bootstrap import build_container
from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import load_settings

WORKER_SECRET = "a-worker-secret-that-is-long-enough-0123"


@pytest.fixture
def redis_services(tmp_path: Path, redis_server: RedisServer) -> Iterator[Container]:
    """The production queue and events on the test's own Redis."""
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "JWT_SECRET": TEST_SECRET,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_server.port),
            "WORKER_SECRET": WORKER_SECRET,
        }
    )
    container = build_container(settings)
    container.storage.override(providers.Singleton(StoppableStorage))
    yield container
    container.reset_singletons()


@pytest.fixture
def redis_client(redis_services: Container) -> FlaskClient:
    return create_app(redis_services).test_client()


def checks(client: FlaskClient) -> tuple[int, dict[str, str]]:
    answer = client.get("/readyz")
    return answer.status_code, answer.get_json()["checks"]


def test_readyz_checks_redis_when_it_is_configured(
    redis_client: FlaskClient,
) -> None:
    status, results = checks(redis_client)

    assert status == 200
    assert results == {"storage": "ok", "queue": "ok", "redis": "ok"}


def test_readyz_fails_while_redis_is_stopped_and_recovers_when_it_returns(
    redis_client: FlaskClient, redis_server: RedisServer
) -> None:
    before = checks(redis_client)

    redis_server.stop()
    during = checks(redis_client)
    redis_server.start()
    after = checks(redis_client)

    assert before[0] == 200
    down = {"storage": "ok", "queue": "unavailable", "redis": "unavailable"}
    assert during == (503, down)
    assert after == before


def test_readyz_fails_while_storage_is_gone_and_recovers_when_it_returns(
    redis_client: FlaskClient, redis_services: Container
) -> None:
    storage = redis_services.storage()

    storage.down = True
    during = checks(redis_client)
    storage.down = False
    after = checks(redis_client)

    down = {"storage": "unavailable", "queue": "ok", "redis": "ok"}
    assert during == (503, down)
    assert after[0] == 200


def test_queue_depth_comes_from_redis_and_is_left_out_while_it_is_down(
    redis_client: FlaskClient, redis_services: Container, redis_server: RedisServer
) -> None:
    redis_services.queue().enqueue("job-1", delay_seconds=600)
    up = scrape(redis_client)

    redis_server.stop()
    down = scrape(redis_client)

    assert up[("tasks_api_queue_depth", ())] == 1
    assert ("tasks_api_queue_depth", ()) not in down
    assert down[("tasks_api_jobs", (("status", "queued"),))] == 0
