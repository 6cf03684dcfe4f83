"""A worker's metrics, served by Dramatiq's middleware, with the API's.

Real processes: the API under gunicorn and a ``tasks-api worker`` on a
Redis server of the test's own, so the Redis broker is the one that
carries the middleware's hooks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from e2e.client import ApiClient
from e2e.conftest import scan
from prometheus_client.parser import text_string_to_metric_families
from servers import SECRET, RunningProcess, api_server, free_port, worker_process

from observability.support import RedisServer

pytestmark = pytest.mark.slow


@dataclass
class Service:
    api: RunningProcess
    worker: RunningProcess
    worker_metrics: str


@pytest.fixture
def service(tmp_path: Path, redis_server: RedisServer) -> Iterator[Service]:
    production = {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_server.port),
        "WORKER_SECRET": SECRET,
    }
    port = free_port()
    metrics = {"dramatiq_prom_host": "127.0.0.1", "dramatiq_prom_port": str(port)}
    worker_env = {**production, **metrics}
    with (
        api_server(tmp_path / "api", production) as api,
        worker_process(tmp_path / "worker", api.url, worker_env) as worker,
    ):
        yield Service(api, worker, f"http://127.0.0.1:{port}/metrics")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def wait_for_final_status(user: ApiClient, job_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = user.job(job_id)["status"]
        if status in {"succeeded", "failed", "cancelled"}:
            return status
        time.sleep(0.2)
    return "still unfinished"


def wait_for_worker_metrics(url: str, worker: RunningProcess) -> str:
    """The middleware's server starts once the worker process has booted."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=2).text
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"no worker metrics at {url}:\n{worker.log()[-3000:]}")


def test_the_worker_serves_dramatiq_and_ocr_metrics_and_the_api_counts_jobs(
    service: Service,
) -> None:
    user = ApiClient(service.api.url).sign_up()
    data, _ = scan(seed=31, words=30)

    job_id = user.upload(user.new_task(), "scan.png", data)["job"]["id"]
    status = wait_for_final_status(user, job_id)
    worker = samples(wait_for_worker_metrics(service.worker_metrics, service.worker))
    api = samples(requests.get(f"{service.api.url}/metrics", timeout=5).text)

    assert status == "succeeded", service.worker.log()[-3000:]
    job_labels = (("actor_name", "process_job"), ("queue_name", "jobs"))
    assert worker[("dramatiq_messages_total", job_labels)] == 1
    assert worker.get(("dramatiq_message_errors_total", job_labels), 0) == 0
    assert worker[("tasks_api_ocr_page_seconds_count", ())] == 1
    assert api[("tasks_api_jobs", (("status", "succeeded"),))] == 1
    assert api[("tasks_api_queue_depth", ())] == 0
