"""Nobody reaches what is not theirs: someone else's id answers 404.

The walk reads the app's URL map, so a route added later is covered without
anyone adding it here. Each request carries a body made from the route's own
OpenAPI request schema, so it fails on ownership, not on validation.
"""

from __future__ import annotations

import io
import re

import pytest
from accounts import Account
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.domain.jobs import Attachment, Job
from tasks_api.entrypoints.container import Container

# Routes that take no user token: they are guarded otherwise or public.
NOT_USER_ROUTES = {"internal", "ops", "metrics", "swagger_ui_assets", "api-docs"}
ID_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+_id)>")


def _owned_ids(
    client: FlaskClient, services: Container, owner: Account
) -> dict[str, str]:
    """One thing of each kind, owned by ``owner``, by URL argument name."""
    project = client.post(
        "/api/v1/projects", json={"name": "Mine"}, headers=owner.headers
    )
    project_id = project.get_json()["id"]
    task = client.post(
        f"/api/v1/projects/{project_id}/tasks",
        json={"title": "Mine"},
        headers=owner.headers,
    )
    task_id = task.get_json()["id"]

    storage = services.storage()
    job = Job(
        owner_id=owner.id,
        task_id=task_id,
        attachment_id="",
        storage_key="k",
        media_type="text/plain",
        language="eng",
    )
    attachment = Attachment(
        owner_id=owner.id,
        task_id=task_id,
        project_id=project_id,
        filename="a.txt",
        media_type="text/plain",
        size=1,
        storage_key="k",
        language="eng",
        job_id=job.id,
    )
    job.attachment_id = attachment.id
    storage.jobs.add(job)
    storage.attachments.add(attachment)

    return {
        "project_id": project_id,
        "task_id": task_id,
        "attachment_id": attachment.id,
        "job_id": job.id,
    }


def _example(schema: dict, spec: dict) -> object:
    """A value that satisfies a (simple) OpenAPI schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(spec["components"]["schemas"][name], spec)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: _example(props[name], spec)
            for name in schema.get("required", [])
            if not props[name].get("readOnly")
        }
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if schema.get("format") == "email":
        return "someone@example.com"
    if schema.get("format") == "date":
        return "2030-01-01"
    return "x"


def _request_kwargs(spec: dict, path: str, method: str) -> dict:
    operation = spec["paths"].get(path, {}).get(method, {})
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": _example(content["application/json"]["schema"], spec)}
    if "multipart/form-data" in content:
        return {
            "data": {"file": (io.BytesIO(b"hello there"), "a.txt")},
            "content_type": "multipart/form-data",
        }
    return {}


def _routes_with_ids(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".", 1)[0]
        if blueprint in NOT_USER_ROUTES or rule.endpoint in NOT_USER_ROUTES:
            continue
        if not ID_ARGUMENT.search(rule.rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method.lower(), rule.endpoint))
    return routes


def test_every_route_with_an_id_answers_404_to_another_user(
    app: Flask, client: FlaskClient, services: Container, alice: Account, bob: Account
) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = _owned_ids(client, services, alice)
    routes = _routes_with_ids(app)

    answers = {}
    for rule, method, _ in routes:
        url = ID_ARGUMENT.sub(lambda m: ids[m.group(1)], rule)
        path = ID_ARGUMENT.sub(lambda m: "{" + m.group(1) + "}", rule)
        response = client.open(
            url,
            method=method.upper(),
            headers=bob.headers,
            **_request_kwargs(spec, path, method),
        )
        answers[f"{method.upper()} {rule}"] = response.status_code

    assert len(routes) >= 12
    assert answers == dict.fromkeys(answers, 404)


def test_the_owner_reaches_every_readable_route(
    app: Flask, client: FlaskClient, services: Container, alice: Account
) -> None:
    ids = _owned_ids(client, services, alice)
    readable = [
        (rule, endpoint)
        for rule, method, endpoint in _routes_with_ids(app)
        if method == "get" and "download" not in rule and "live" not in rule
    ]

    statuses = {
        rule: client.get(
            ID_ARGUMENT.sub(lambda m: ids[m.group(1)], rule), headers=alice.headers
        ).status_code
        for rule, _ in readable
    }

    assert statuses == dict.fromkeys(statuses, 200)


@pytest.mark.parametrize("kind", ["project_id", "task_id", "attachment_id", "job_id"])
def test_a_made_up_id_is_a_404_too(
    client: FlaskClient, services: Container, alice: Account, kind: str
) -> None:
    path = {
        "project_id": "/api/v1/projects/{}",
        "task_id": "/api/v1/tasks/{}",
        "attachment_id": "/api/v1/attachments/{}",
        "job_id": "/api/v1/jobs/{}",
    }[kind]

    answer = client.get(path.format("f" * 32), headers=alice.headers)

    assert answer.status_code == 404
