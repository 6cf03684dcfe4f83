"""Per-user caps: files in flight and open streams answer 429 past them."""

from __future__ import annotations

import io
from pathlib import Path

from accounts import register
from dependency_injector import providers
from fakes.ports import RecordingQueue
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import load_settings


def _app(services: Container, tmp_path: Path, **environ: str) -> Flask:
    settings = load_settings(
        {"DATA_DIR": str(tmp_path / "caps"), "JWT_SECRET": "c" * 40, **environ}
    )
    services.settings.override(providers.Object(settings))
    services.queue.override(providers.Object(RecordingQueue()))
    return create_app(services)


def _new_task(client: FlaskClient, headers: dict[str, str]) -> str:
    project = client.post("/api/v1/projects", json={"name": "P"}, headers=headers)
    task = client.post(
        f"/api/v1/projects/{project.get_json()['id']}/tasks",
        json={"title": "T"},
        headers=headers,
    )
    return task.get_json()["id"]


def _upload(client: FlaskClient, headers: dict[str, str], task_id: str) -> int:
    return client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        data={"file": (io.BytesIO(b"Some words to read."), "a.txt")},
        content_type="multipart/form-data",
        headers=headers,
    ).status_code


def test_files_in_flight_past_the_cap_answer_429(
    services: Container, tmp_path: Path
) -> None:
    client = _app(services, tmp_path, MAX_JOBS_IN_FLIGHT="2").test_client()
    alice = register(client, "alice@example.com")
    bob = register(client, "bob@example.com")
    task_id = _new_task(client, alice.headers)

    statuses = [_upload(client, alice.headers, task_id) for _ in range(3)]
    bobs = _upload(client, bob.headers, _new_task(client, bob.headers))

    assert statuses == [202, 202, 429]
    assert bobs == 202


def test_open_streams_past_the_cap_answer_429_until_one_closes(
    services: Container, tmp_path: Path
) -> None:
    client = _app(services, tmp_path, MAX_STREAMS_PER_USER="1").test_client()
    alice = register(client, "alice@example.com")
    task_id = _new_task(client, alice.headers)
    client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        data={"file": (io.BytesIO(b"Some words to read."), "a.txt")},
        content_type="multipart/form-data",
        headers=alice.headers,
    )
    job_id = client.get(
        f"/api/v1/tasks/{task_id}/jobs", headers=alice.headers
    ).get_json()["items"][0]["id"]
    live = f"/api/v1/jobs/{job_id}/live"

    first = client.get(live, headers=alice.headers, buffered=False)
    second = client.get(live, headers=alice.headers, buffered=False)
    first.close()
    third = client.get(live, headers=alice.headers, buffered=False)

    assert first.status_code == 200, first.get_json()
    assert second.status_code == 429, second.get_json()
    assert second.get_json()["code"] == "too_many"
    assert third.status_code == 200
    third.close()
