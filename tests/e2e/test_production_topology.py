"""The production topology on one machine: two API processes, a worker
process on Redis (Dramatiq), events fanned out over Redis pub/sub.

MongoDB cannot run here, so both API processes share one SQLite file;
every other part is the production one. The worker holds no storage
settings at all: it reports over the internal routes with the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from servers import SECRET, RunningProcess, api_server, wait_for, worker_process
from sse_client import open_stream, until_final

from e2e.client import ApiClient
from e2e.conftest import photo, scan, scanned_pdf, words_found

PRODUCTION = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "WORKER_SECRET": SECRET}


@dataclass
class Topology:
    uploader: RunningProcess
    watcher: RunningProcess
    worker: RunningProcess


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    redis.Redis(host="127.0.0.1", port=6379).ping()  # fails loudly without Redis
    data_dir = tmp_path_factory.mktemp("production")
    with (
        api_server(data_dir, PRODUCTION) as uploader,
        api_server(data_dir, PRODUCTION) as watcher,
        worker_process(data_dir / "worker", uploader.url, PRODUCTION) as worker,
    ):
        yield Topology(uploader, watcher, worker)


def test_a_job_runs_on_the_worker_and_streams_through_another_api_process(
    topology: Topology,
) -> None:
    user = ApiClient(topology.uploader.url).sign_up()
    data, text = scan(seed=21, words=40)
    task_id = user.new_task()

    upload = user.upload(task_id, "scan.png", data)
    job_id = upload["job"]["id"]
    stream = open_stream(
        f"{topology.watcher.url}/api/v1/jobs/{job_id}/live", user.token
    )
    events = until_final(stream)
    job = user.job(job_id)

    assert events[-1].data["status"] == "succeeded", topology.worker.log()[-3000:]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert words_found(text, job["text"]) > 0.95
    assert job["summary"]
    # The worker logs the job after its last report, so possibly after the
    # stream has ended.
    wait_for(lambda: job_id in topology.worker.log(), 30, "the worker's job line")


@pytest.mark.parametrize("kind", ["photo", "pdf"])
def test_a_photo_and_a_pdf_are_read_by_the_worker_too(
    topology: Topology, tmp_path: Path, kind: str
) -> None:
    user = ApiClient(topology.uploader.url).sign_up()
    if kind == "photo":
        data, text = photo(seed=22)
        texts = [text]
    else:
        data, texts = scanned_pdf(tmp_path, pages=2)

    upload = user.upload(user.new_task(), f"upload.{kind}", data)
    job_id = upload["job"]["id"]
    until_final(
        open_stream(f"{topology.uploader.url}/api/v1/jobs/{job_id}/live", user.token)
    )
    job = user.job(job_id)

    assert job["status"] == "succeeded", job["error"]
    assert all(words_found(text, job["text"]) > 0.9 for text in texts)
    assert job["summary"]


def test_the_worker_never_opens_storage(topology: Topology) -> None:
    worker_data_dir = Path(topology.worker.log_path).parent

    assert topology.worker.process.poll() is None
    assert not list(worker_data_dir.glob("*.sqlite3*"))


def test_internal_routes_refuse_a_wrong_secret(topology: Topology) -> None:
    client = ApiClient(topology.uploader.url)

    wrong = client.call(
        "GET", "/jobs/0/check-cancel", headers={"x-worker-secret": "wrong" * 10}
    )
    missing = client.call("GET", "/jobs/0/check-cancel")

    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["code"] == "unauthenticated"
