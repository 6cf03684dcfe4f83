"""What the API's /metrics shows: its own figures and the process's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from observability.support import StoppableStorage, scrape
from tasks_api.domain.jobs import Job, JobStatus
from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app


def add_job(storage: StoppableStorage, status: JobStatus) -> None:
    storage.jobs.add(
        Job(
            owner_id="owner-1",
            task_id="task-1",
            attachment_id="attachment-1",
            storage_key="key",
            media_type="image/png",
            language="eng",
            status=status,
        )
    )


@pytest.fixture
def storage(services: Container) -> StoppableStorage:
    store = StoppableStorage()
    services.storage.override(providers.Object(store))
    return store


@pytest.fixture
def metrics_client(
    services: Container, storage: StoppableStorage
) -> Iterator[FlaskClient]:
    yield create_app(services).test_client()
    services.queue().shutdown()


def test_jobs_are_counted_by_status_when_scraped(
    metrics_client: FlaskClient, storage: StoppableStorage
) -> None:
    for status in (JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.FAILED):
        add_job(storage, status)

    samples = scrape(metrics_client)

    assert samples[("tasks_api_jobs", (("status", "queued"),))] == 2
    assert samples[("tasks_api_jobs", (("status", "failed"),))] == 1
    assert samples[("tasks_api_jobs", (("status", "running"),))] == 0


def test_queue_depth_is_read_from_the_queue_when_scraped(
    metrics_client: FlaskClient, services: Container
) -> None:
    before = scrape(metrics_client)

    services.queue().enqueue("a-job-for-later", delay_seconds=3600)
    after = scrape(metrics_client)

    assert before[("tasks_api_queue_depth", ())] == 0
    assert after[("tasks_api_queue_depth", ())] == 1


def test_metrics_still_answer_without_the_job_counts_while_storage_is_down(
    metrics_client: FlaskClient, storage: StoppableStorage
) -> None:
    storage.down = True
    samples = scrape(metrics_client)

    assert not any(name == "tasks_api_jobs" for name, _ in samples)
    assert ("tasks_api_queue_depth", ()) in samples
    assert ("tasks_api_open_streams", ()) in samples


def test_metrics_carry_the_default_registry_of_the_process(
    metrics_client: FlaskClient,
) -> None:
    samples = scrape(metrics_client)

    assert any(name == "python_info" for name, _ in samples)


def test_requests_are_timed_by_route_pattern(
    metrics_client: FlaskClient,
) -> None:
    metrics_client.get("/api/v1/jobs/some-job-id")

    samples = scrape(metrics_client)

    routes = {dict(labels).get("route") for name, labels in samples}
    assert "/api/v1/jobs/<job_id>" in routes
    assert not any(route and "some-job-id" in route for route in routes)


def test_every_app_answers_its_own_metrics(app: Flask, services: Container) -> None:
    other = create_app(services)
    app.test_client().get("/healthz")

    mine = scrape(app.test_client())
    theirs = scrape(other.test_client())

    healthz = ("tasks_api_request_seconds_count",)
    assert any(key[:1] == healthz for key in mine)
    assert not any(key[:1] == healthz for key in theirs)
