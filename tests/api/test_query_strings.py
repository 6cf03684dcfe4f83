"""Query strings: read as plain values, lists only where a schema asks."""

from __future__ import annotations

import marshmallow as ma
from accounts import Account
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint


def _project_with_tasks(client: FlaskClient, owner: Account) -> str:
    project = client.post(
        "/api/v1/projects", json={"name": "Home"}, headers=owner.headers
    ).get_json()
    for status in ("todo", "done"):
        client.post(
            f"/api/v1/projects/{project['id']}/tasks",
            json={"title": status, "status": status},
            headers=owner.headers,
        )
    return project["id"]


def test_a_repeated_parameter_counts_once_with_its_first_value(
    client: FlaskClient, alice: Account
) -> None:
    project_id = _project_with_tasks(client, alice)

    answer = client.get(
        f"/api/v1/projects/{project_id}/tasks?status=done&status=todo",
        headers=alice.headers,
    )

    assert answer.status_code == 200
    assert [task["title"] for task in answer.get_json()["items"]] == ["done"]


def test_a_malformed_parameter_is_named_in_a_422_and_an_unknown_one_ignored(
    client: FlaskClient, alice: Account
) -> None:
    project_id = _project_with_tasks(client, alice)
    url = f"/api/v1/projects/{project_id}/tasks"

    malformed = client.get(f"{url}?limit=many&due_to=soon", headers=alice.headers)
    unknown = client.get(f"{url}?colour=red", headers=alice.headers)

    assert malformed.status_code == 422
    assert set(malformed.get_json()["errors"]["query"]) == {"limit", "due_to"}
    assert unknown.status_code == 200
    assert len(unknown.get_json()["items"]) == 2


def test_a_schema_with_a_list_field_still_gets_every_value(app: Flask) -> None:
    class TagsSchema(ma.Schema):
        tag = ma.fields.List(ma.fields.String())
        limit = ma.fields.Integer()

    parser = Blueprint.ARGUMENTS_PARSER

    with app.test_request_context("/?tag=a&tag=b&limit=3"):
        parsed = parser.parse(TagsSchema(), request, location="query")

    assert parsed == {"tag": ["a", "b"], "limit": 3}
