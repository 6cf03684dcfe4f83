"""The worker-only routes, over a real JobLifecycle and in-memory storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tasks_api.domain.errors import TransientFailure, UnreadableDocument
from tasks_api.domain.jobs import EventType, JobStage, JobStatus
from tasks_api.entrypoints.bootstrap import build_container
from tasks_api.entrypoints.http import internal
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import load_settings
from transport.support import (
    WORKER_SECRET,
    JobWorld,
    RedirectingFileStore,
    internal_app,
)

AS_WORKER = {"x-worker-secret": WORKER_SECRET}


@pytest.fixture
def world(tmp_path: Path) -> JobWorld:
    return JobWorld(tmp_path)


@pytest.fixture
def client(world: JobWorld) -> FlaskClient:
    return internal_app(world).test_client()


def claimed(world: JobWorld, client: FlaskClient) -> str:
    job = world.add_job()
    answer = client.post(f"/api/v1/internal/jobs/{job.id}/claim", headers=AS_WORKER)
    assert answer.status_code == 200
    return job.id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-worker-secret": "wrong"},
        {"x-worker-secret": WORKER_SECRET[:-1]},
        {"x-worker-secret": "sécret-ünïcode"},
        {"x-worker-secret": ""},
    ],
    ids=["missing", "wrong", "prefix", "non-ascii", "empty"],
)
def test_a_call_without_the_right_secret_answers_401_in_our_shape(
    client: FlaskClient, world: JobWorld, headers: dict[str, str]
) -> None:
    job = world.add_job()

    response = client.post(f"/api/v1/internal/jobs/{job.id}/claim", headers=headers)

    assert response.status_code == 401
    assert response.json["code"] == "unauthenticated"
    assert response.json["status"] == 401
    assert world.job(job.id).status is JobStatus.QUEUED


def test_a_non_ascii_secret_in_raw_header_bytes_answers_401(
    client: FlaskClient,
) -> None:
    response = client.get(
        "/api/v1/jobs/x/check-cancel",
        environ_overrides={"HTTP_X_WORKER_SECRET": "caf\xe9\xff"},
    )

    assert response.status_code == 401
    assert response.json["code"] == "unauthenticated"


def test_every_route_answers_404_when_no_worker_secret_is_configured(
    world: JobWorld,
) -> None:
    client = internal_app(world, worker_secret=None).test_client()
    job = world.add_job()

    answers = [
        client.post(f"/api/v1/internal/jobs/{job.id}/claim", headers=AS_WORKER),
        client.get(f"/api/v1/jobs/{job.id}/check-cancel", headers=AS_WORKER),
        client.post("/api/v1/ai/summarize", headers=AS_WORKER, json={}),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert answers[0].json["code"] == "not_found"


def test_claim_answers_the_ticket_then_409_for_a_second_claim(
    client: FlaskClient, world: JobWorld
) -> None:
    job = world.add_job()
    url = f"/api/v1/internal/jobs/{job.id}/claim"

    first = client.post(url, headers=AS_WORKER)
    second = client.post(url, headers=AS_WORKER)

    assert first.status_code == 200
    assert first.json == {
        "job_id": job.id,
        "media_type": "text/plain",
        "language": "eng",
        "attempt": 1,
    }
    assert second.status_code == 409
    assert second.json["code"] == "not_claimable"


def test_progress_is_recorded_and_published(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = claimed(world, client)

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/progress",
        headers=AS_WORKER,
        json={"stage": "ocr", "pages_done": 2, "pages_total": 4},
    )

    assert response.status_code == 204
    job = world.job(job_id)
    assert (job.stage, job.pages_done, job.pages_total) == (JobStage.OCR, 2, 4)
    assert world.storage.job_events.list(job_id)[-1].type is EventType.PROGRESS


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"stage": "ocr", "pages_done": 1},
        {"stage": "dancing", "pages_done": 1, "pages_total": 2},
        {"stage": "ocr", "pages_done": -1, "pages_total": 2},
        {"stage": "ocr", "pages_done": "1", "pages_total": 2},
        {"stage": "ocr", "pages_done": 1, "pages_total": 2, "extra": True},
    ],
)
def test_a_bad_progress_body_answers_422_with_field_errors(
    client: FlaskClient, world: JobWorld, body: object
) -> None:
    job_id = claimed(world, client)

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/progress", headers=AS_WORKER, json=body
    )

    assert response.status_code == 422
    assert response.json["code"] == "invalid_input"
    assert "json" in response.json["errors"]


def test_check_cancel_follows_a_cancel_request(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = claimed(world, client)
    url = f"/api/v1/jobs/{job_id}/check-cancel"
    before = client.get(url, headers=AS_WORKER).json

    world.storage.jobs.request_cancel(job_id)

    assert before == {"cancel": False}
    assert client.get(url, headers=AS_WORKER).json == {"cancel": True}


def test_file_processed_then_summary_ready_finishes_the_job(
    world: JobWorld,
) -> None:
    app = internal_app(world)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # an upload-sized app limit
    client = app.test_client()
    job_id = claimed(world, client)
    text = "Long text. " * 300_000  # about 3 MB, like 300 pages of OCR

    stored = client.post(
        "/api/v1/webhooks/file-processed",
        headers=AS_WORKER,
        json={"job_id": job_id, "text": text},
    )
    finished = client.post(
        "/api/v1/webhooks/summary-ready",
        headers=AS_WORKER,
        json={"job_id": job_id, "summary": "Long text."},
    )

    assert (stored.status_code, finished.status_code) == (204, 204)
    job = world.job(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.text == text and job.summary == "Long text."


def test_summarize_answers_the_summarizers_summary(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = world.running_job()
    response = client.post(
        "/api/v1/ai/summarize",
        headers=AS_WORKER,
        json={"job_id": job_id, "text": "First sentence. Second one."},
    )

    assert response.status_code == 200
    assert response.json == {"summary": "First sentence."}


def test_a_busy_summarizer_answers_503_with_retry_after(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = world.running_job()
    world.summarizer.fail_with = TransientFailure("Rate limited.", retry_after=7.2)

    response = client.post(
        "/api/v1/ai/summarize", headers=AS_WORKER, json={"job_id": job_id, "text": "t"}
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "8"
    assert response.json["code"] == "unavailable"


def test_an_unsummarizable_text_answers_422_with_the_reasons_code(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = world.running_job()
    world.summarizer.fail_with = UnreadableDocument("too_long", "Far too long.")

    response = client.post(
        "/api/v1/ai/summarize", headers=AS_WORKER, json={"job_id": job_id, "text": "t"}
    )

    assert response.status_code == 422
    assert response.json["code"] == "too_long"
    assert response.json["message"] == "Far too long."


def test_failed_finishes_the_job_with_the_reason(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = claimed(world, client)

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/failed",
        headers=AS_WORKER,
        json={"code": "encrypted_pdf", "message": "The PDF is encrypted."},
    )

    assert response.status_code == 204
    job = world.job(job_id)
    assert job.status is JobStatus.FAILED
    assert (job.error_code, job.error_message) == (
        "encrypted_pdf",
        "The PDF is encrypted.",
    )


def test_cancelled_finishes_the_job_as_cancelled(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = claimed(world, client)

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/cancelled", headers=AS_WORKER
    )

    assert response.status_code == 204
    assert world.job(job_id).status is JobStatus.CANCELLED


def test_retry_puts_the_job_back_in_the_queue_after_the_delay(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = claimed(world, client)

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/retry",
        headers=AS_WORKER,
        json={"reason": "LLM busy", "delay_seconds": 30},
    )

    assert response.status_code == 204
    assert world.job(job_id).status is JobStatus.QUEUED
    assert world.queue.sent == [(job_id, 30.0)]


def test_file_streams_the_stored_upload(client: FlaskClient, world: JobWorld) -> None:
    job = world.add_job(b"\x00binary\xffbytes")

    response = client.get(f"/api/v1/internal/jobs/{job.id}/file", headers=AS_WORKER)

    assert response.status_code == 200
    assert response.data == b"\x00binary\xffbytes"


def test_file_redirects_when_the_store_signs_urls(
    world: JobWorld, tmp_path: Path
) -> None:
    world.files = RedirectingFileStore(tmp_path / "files", "https://cdn.example/f")
    client = internal_app(world).test_client()
    job = world.add_job()

    response = client.get(f"/api/v1/internal/jobs/{job.id}/file", headers=AS_WORKER)

    assert response.status_code == 302
    assert response.headers["Location"] == "https://cdn.example/f"


def test_file_of_an_unknown_job_answers_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/internal/jobs/nope/file", headers=AS_WORKER)

    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_file_whose_bytes_are_gone_answers_422_file_missing(
    client: FlaskClient, world: JobWorld
) -> None:
    job = world.add_job()
    world.files.delete(job.storage_key)

    response = client.get(f"/api/v1/internal/jobs/{job.id}/file", headers=AS_WORKER)

    assert response.status_code == 422
    assert response.json["code"] == "file_missing"


def test_the_internal_routes_stay_out_of_the_public_openapi_document(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "JWT_SECRET": WORKER_SECRET,
            "WORKER_SECRET": WORKER_SECRET,
        }
    )
    app = create_app(build_container(settings))
    if "internal" not in app.blueprints:  # until the app registers it itself
        app.register_blueprint(internal.blp)
    client = app.test_client()

    paths = client.get("/api/v1/openapi.json").json["paths"]
    refused = client.post("/api/v1/ai/summarize", json={})

    assert not [path for path in paths if "internal" in path or "webhooks" in path]
    assert not [path for path in paths if "summarize" in path or "check-cancel" in path]
    assert refused.status_code == 401


def test_summarize_refuses_a_job_that_is_not_running(
    client: FlaskClient, world: JobWorld
) -> None:
    queued = world.add_job()

    response = client.post(
        "/api/v1/ai/summarize",
        headers=AS_WORKER,
        json={"job_id": queued.id, "text": "t"},
    )

    assert response.status_code == 404
    assert response.json["code"] == "not_running"
    assert world.summarizer.texts == []


def test_a_heartbeat_moves_a_running_jobs_clock(
    client: FlaskClient, world: JobWorld
) -> None:
    job_id = world.running_job()
    before = world.job(job_id).heartbeat_at

    response = client.post(
        f"/api/v1/internal/jobs/{job_id}/heartbeat", headers=AS_WORKER
    )

    assert response.status_code == 204
    assert world.job(job_id).heartbeat_at >= before
