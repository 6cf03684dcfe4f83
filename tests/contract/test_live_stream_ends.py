"""A job's stream ends after its final status, whatever Last-Event-ID says.

Found by the Schemathesis run: it sends ``Last-Event-ID`` values past a
job's last event, and those streams never ended. The OpenAPI document
promises that a stream "ends after the job's final status" and that a
client holding the final event's id gets 204.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts import TEST_SECRET, Account
from dependency_injector import providers
from fakes.ports import RecordingQueue
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.settings import Settings, load_settings

HEARTBEAT = ": keep-alive"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A quiet stream sends a heartbeat every second: a stream that waits
    # instead of ending shows one quickly.
    return load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "JWT_SECRET": TEST_SECRET,
            "SSE_HEARTBEAT_SECONDS": "1",
        }
    )


@pytest.fixture
def running_job(client: FlaskClient, services: Container, alice: Account) -> str:
    """A job of Alice's that a worker has claimed: two events so far."""
    services.queue.override(providers.Object(RecordingQueue()))
    project = client.post("/api/v1/projects", json={"name": "P"}, headers=alice.headers)
    task = client.post(
        f"/api/v1/projects/{project.get_json()['id']}/tasks",
        json={"title": "T"},
        headers=alice.headers,
    )
    upload = client.post(
        f"/api/v1/tasks/{task.get_json()['id']}/attachments",
        data={"file": (io.BytesIO(b"A short note to read."), "note.txt")},
        content_type="multipart/form-data",
        headers=alice.headers,
    )
    job_id = upload.get_json()["job"]["id"]
    assert services.job_lifecycle().claim(job_id) is not None
    return job_id


def follow(
    client: FlaskClient, alice: Account, job_id: str, last_event_id: int
) -> TestResponse:
    return client.get(
        f"/api/v1/jobs/{job_id}/live",
        headers={**alice.headers, "Last-Event-ID": str(last_event_id)},
        buffered=False,
    )


def chunks_until_end_or_heartbeat(response: TestResponse) -> Iterator[str]:
    """What the stream sends up to its end, or up to its first heartbeat."""
    try:
        for chunk in response.response:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            yield text
            if text.startswith(HEARTBEAT):
                return
    finally:
        response.close()


def test_a_finished_jobs_stream_is_over_for_an_id_past_its_last_event(
    client: FlaskClient, services: Container, alice: Account, running_job: str
) -> None:
    services.job_lifecycle().failed(running_job, "no_text", "Nothing to read.")
    last = services.storage().job_events.list(running_job)[-1].seq

    answer = follow(client, alice, running_job, last + 5)
    answer.close()

    assert answer.status_code == 204


def test_a_running_jobs_stream_past_its_history_still_ends_on_its_status(
    client: FlaskClient, services: Container, alice: Account, running_job: str
) -> None:
    answer = follow(client, alice, running_job, 99)
    services.job_lifecycle().failed(running_job, "no_text", "Nothing to read.")

    sent = list(chunks_until_end_or_heartbeat(answer))

    assert answer.status_code == 200
    assert not any(chunk.startswith(HEARTBEAT) for chunk in sent), sent
    assert '"status":"failed"' in sent[-1]
