"""Liveness, readiness, request ids, the error shape and the OpenAPI document."""

from __future__ import annotations

import io
import logging
import os

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import SyncFlask, _refuse_async_views
from tasks_api.entrypoints.http.ops import new_request_id
from tasks_api.entrypoints.logs import RequestIdFilter, TextFormatter


def test_healthz_answers_without_a_token(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_each_backing_service(client: FlaskClient) -> None:
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.get_json()["checks"]["storage"] == "ok"


def test_readyz_fails_while_storage_is_down(
    client: FlaskClient, services: Container
) -> None:
    storage = services.storage()

    def broken() -> None:
        raise ConnectionError("storage is down")

    storage.ping = broken
    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert answer.get_json()["checks"]["storage"] == "unavailable"


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    generated = client.get("/healthz")
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id; level=INFO " * 9})

    assert len(generated.headers["X-Request-ID"]) == 32
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert " " not in forged.headers["X-Request-ID"]


def test_forked_workers_make_request_ids_of_their_own() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    childs = os.read(read_end, 64).decode()
    os.close(read_end)
    os.close(write_end)

    # A child that kept its parent's generator state would say the same.
    assert childs != new_request_id()
    assert len(childs) == 32 and int(childs, 16) >= 0


def test_each_request_is_logged_once_with_its_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tasks_api.access"):
        client.get("/healthz", headers={"X-Request-ID": "req-1"})

    lines = [r for r in caplog.records if r.name == "tasks_api.access"]
    assert len(lines) == 1
    assert lines[0].request_id == "req-1" and lines[0].status == 200


def test_a_line_logged_while_serving_a_request_carries_its_id(app: Flask) -> None:
    @app.get("/slow")
    def slow() -> str:
        logging.getLogger("tasks_api.test").warning("Storage answered slowly.")
        return "ok"

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(TextFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tasks_api.test")
    logger.addHandler(handler)
    try:
        app.test_client().get("/slow", headers={"X-Request-ID": "req-7"})
        logger.warning("Outside any request.")
    finally:
        logger.removeHandler(handler)

    during, outside = lines.getvalue().splitlines()
    assert during.endswith("Storage answered slowly. [request req-7]")
    assert outside.endswith("Outside any request.")


def test_an_unexpected_error_is_a_500_without_a_traceback(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /srv/app/module.py line 3")

    answer = app.test_client().get("/boom")

    assert answer.status_code == 500
    body = answer.get_json()
    assert body["code"] == "internal_error"
    assert "secret" not in answer.get_data(as_text=True)
    assert "Traceback" not in answer.get_data(as_text=True)


def test_openapi_documents_every_public_route_with_errors(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()

    paths = spec["paths"]
    assert {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/projects/{project_id}/tasks",
        "/api/v1/tasks/{task_id}",
    } <= set(paths)
    assert "401" in paths["/api/v1/projects"]["get"]["responses"]
    assert "404" in paths["/api/v1/tasks/{task_id}"]["get"]["responses"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert not any("internal" in path or "webhooks" in path for path in paths)


def test_the_docs_page_works_offline(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")

    assert page.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert script.status_code == 200 and len(script.data) > 100_000


def test_an_async_view_is_refused_when_the_app_is_built() -> None:
    app = SyncFlask("with_an_async_view")

    @app.get("/slow")
    async def slow() -> str:
        return "never awaited"

    with pytest.raises(TypeError, match="slow: async views are not supported"):
        _refuse_async_views(app)
