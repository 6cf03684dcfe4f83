"""Projects and tasks over HTTP: CRUD, validation, filters and pages."""

from __future__ import annotations

import re

import pytest
from accounts import Account, register
from dependency_injector import providers
from flask.testing import FlaskClient

from tasks_api.adapters.storage.sqlite import SqliteStorage
from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import Settings

# How the API writes every time: UTC, always three decimals, so that the
# text has one width and sorts as the times do.
MILLISECOND_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def _project(client: FlaskClient, owner: Account, name: str = "Home") -> dict:
    answer = client.post("/api/v1/projects", json={"name": name}, headers=owner.headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _task(
    client: FlaskClient, owner: Account, project_id: str, **fields: object
) -> dict:
    body = {"title": "Do it", **fields}
    answer = client.post(
        f"/api/v1/projects/{project_id}/tasks", json=body, headers=owner.headers
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_project_can_be_created_read_replaced_patched_and_deleted(
    client: FlaskClient, alice: Account
) -> None:
    project = _project(client, alice, "Garden")
    url = f"/api/v1/projects/{project['id']}"

    put = client.put(
        url, json={"name": "Yard", "description": "back"}, headers=alice.headers
    )
    patch = client.patch(url, json={"description": "front"}, headers=alice.headers)
    read = client.get(url, headers=alice.headers)
    deleted = client.delete(url, headers=alice.headers)
    gone = client.get(url, headers=alice.headers)

    assert put.get_json()["name"] == "Yard"
    assert patch.get_json() | {"updated_at": None} == read.get_json() | {
        "updated_at": None
    }
    assert (
        read.get_json()["name"] == "Yard" and read.get_json()["description"] == "front"
    )
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_deleting_a_project_deletes_its_tasks(
    client: FlaskClient, alice: Account
) -> None:
    project = _project(client, alice)
    task = _task(client, alice, project["id"])

    client.delete(f"/api/v1/projects/{project['id']}", headers=alice.headers)

    assert (
        client.get(f"/api/v1/tasks/{task['id']}", headers=alice.headers).status_code
        == 404
    )


def test_projects_are_listed_newest_first_in_pages(
    client: FlaskClient, alice: Account
) -> None:
    names = [f"p{i:02}" for i in range(25)]
    for name in names:
        _project(client, alice, name)

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/projects", query_string=query, headers=alice.headers)
        body = page.get_json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    # Projects made in the same millisecond tie, and ties go by id.
    assert sorted(item["name"] for item in seen) == names
    stamps = [item["created_at"] for item in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert pages == 3


@pytest.fixture(params=["memory", "sqlite"])
def any_store_client(
    request: pytest.FixtureRequest, services: Container, settings: Settings
) -> FlaskClient:
    """A client of the app on in-memory storage, or on the embedded SQLite file."""
    if request.param == "sqlite":
        storage = SqliteStorage(settings.sqlite_path)
        storage.migrate()
        services.storage.override(providers.Object(storage))
    return create_app(services).test_client()


def test_every_time_is_written_in_utc_to_the_millisecond(
    any_store_client: FlaskClient,
) -> None:
    client = any_store_client
    alice = register(client, "alice@example.com")
    project = _project(client, alice)
    task = _task(client, alice, project["id"])
    me = client.get("/api/v1/auth/me", headers=alice.headers).get_json()
    listed = [
        client.get(path, headers=alice.headers).get_json()["items"][0]
        for path in ("/api/v1/projects", f"/api/v1/projects/{project['id']}/tasks")
    ]

    stamps = [me["created_at"]]
    for answer in [project, task, *listed]:
        stamps += [answer["created_at"], answer["updated_at"]]
    assert all(MILLISECOND_UTC.fullmatch(stamp) for stamp in stamps), stamps


def test_a_huge_limit_is_lowered_to_the_maximum(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.get("/api/v1/projects?limit=100000", headers=alice.headers)

    assert answer.status_code == 200
    assert answer.get_json()["limit"] == 100


def test_a_forged_cursor_is_a_422_not_a_500(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.get("/api/v1/projects?cursor=%%%not-base64", headers=alice.headers)

    assert answer.status_code == 422
    assert answer.get_json()["errors"]["query"]["cursor"]


def test_unknown_fields_and_server_owned_fields_are_refused(
    client: FlaskClient, alice: Account
) -> None:
    unknown = client.post(
        "/api/v1/projects", json={"name": "x", "colour": "red"}, headers=alice.headers
    )
    owned = client.post(
        "/api/v1/projects",
        json={"name": "x", "id": "mine", "created_at": "2020-01-01T00:00:00Z"},
        headers=alice.headers,
    )

    assert unknown.status_code == 422
    assert "colour" in unknown.get_json()["errors"]["json"]
    assert owned.status_code == 422
    assert {"id", "created_at"} <= set(owned.get_json()["errors"]["json"])


def test_a_body_that_is_not_sent_as_json_is_a_415_saying_so(
    client: FlaskClient, alice: Account
) -> None:
    # What curl -d sends when no type is given.
    as_form = client.post(
        "/api/v1/projects",
        data='{"name": "x"}',
        content_type="application/x-www-form-urlencoded",
        headers=alice.headers,
    )
    as_text = client.post(
        "/api/v1/projects",
        data='{"name": "x"}',
        content_type="text/plain",
        headers=alice.headers,
    )
    with_charset = client.post(
        "/api/v1/projects",
        data='{"name": "x"}',
        content_type="application/json; charset=utf-8",
        headers=alice.headers,
    )
    empty = client.post("/api/v1/projects", headers=alice.headers)

    for answer in (as_form, as_text):
        assert answer.status_code == 415
        assert answer.get_json()["message"] == (
            "Send the body as JSON, with Content-Type: application/json."
        )
    assert with_charset.status_code == 201
    assert empty.status_code == 422
    assert "name" in empty.get_json()["errors"]["json"]


def test_a_body_that_is_not_json_is_a_400_saying_so(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.post(
        "/api/v1/projects",
        data='{"name": ',
        content_type="application/json",
        headers=alice.headers,
    )

    assert answer.status_code == 400
    assert answer.get_json()["message"] == "The request body could not be read."
    assert answer.get_json()["errors"] == {"json": ["Invalid JSON body."]}


def test_wrong_types_get_per_field_messages(
    client: FlaskClient, alice: Account
) -> None:
    project = _project(client, alice)

    answer = client.post(
        f"/api/v1/projects/{project['id']}/tasks",
        json={"title": 5, "status": "someday", "due_date": "tomorrow"},
        headers=alice.headers,
    )

    assert answer.status_code == 422
    body = answer.get_json()
    assert body["code"] == "invalid_input"
    assert {"title", "status", "due_date"} <= set(body["errors"]["json"])


def test_tasks_are_filtered_by_status_priority_and_due_range(
    client: FlaskClient, alice: Account
) -> None:
    project = _project(client, alice)
    pid = project["id"]
    _task(
        client,
        alice,
        pid,
        title="a",
        status="done",
        priority="high",
        due_date="2030-01-05",
    )
    wanted = _task(
        client,
        alice,
        pid,
        title="b",
        status="todo",
        priority="high",
        due_date="2030-01-10",
    )
    _task(
        client,
        alice,
        pid,
        title="c",
        status="todo",
        priority="low",
        due_date="2030-01-10",
    )
    _task(
        client,
        alice,
        pid,
        title="d",
        status="todo",
        priority="high",
        due_date="2030-02-01",
    )

    answer = client.get(
        f"/api/v1/projects/{pid}/tasks",
        query_string={
            "status": "todo",
            "priority": "high",
            "due_from": "2030-01-10",
            "due_to": "2030-01-31",
        },
        headers=alice.headers,
    )

    assert [t["id"] for t in answer.get_json()["items"]] == [wanted["id"]]


def test_tasks_sort_by_due_date_soonest_first_undated_last(
    client: FlaskClient, alice: Account
) -> None:
    pid = _project(client, alice)["id"]
    _task(client, alice, pid, title="undated")
    _task(client, alice, pid, title="later", due_date="2031-01-01")
    _task(client, alice, pid, title="sooner", due_date="2030-01-01")

    answer = client.get(
        f"/api/v1/projects/{pid}/tasks?sort=due&limit=2", headers=alice.headers
    )
    rest = client.get(
        f"/api/v1/projects/{pid}/tasks?sort=due&limit=2&cursor={answer.get_json()['next_cursor']}",
        headers=alice.headers,
    )

    titles = [t["title"] for t in answer.get_json()["items"] + rest.get_json()["items"]]
    assert titles == ["sooner", "later", "undated"]
    assert rest.get_json()["next_cursor"] is None


def test_tasks_sort_by_priority_highest_first(
    client: FlaskClient, alice: Account
) -> None:
    pid = _project(client, alice)["id"]
    for priority in ("low", "high", "medium"):
        _task(client, alice, pid, title=priority, priority=priority)

    answer = client.get(
        f"/api/v1/projects/{pid}/tasks?sort=priority", headers=alice.headers
    )

    assert [t["title"] for t in answer.get_json()["items"]] == ["high", "medium", "low"]


def test_a_reversed_due_range_is_refused(client: FlaskClient, alice: Account) -> None:
    pid = _project(client, alice)["id"]

    answer = client.get(
        f"/api/v1/projects/{pid}/tasks?due_from=2030-02-01&due_to=2030-01-01",
        headers=alice.headers,
    )

    assert answer.status_code == 422


def test_put_resets_left_out_fields_and_patch_keeps_them(
    client: FlaskClient, alice: Account
) -> None:
    pid = _project(client, alice)["id"]
    task = _task(client, alice, pid, description="keep me", priority="high")
    url = f"/api/v1/tasks/{task['id']}"

    patched = client.patch(
        url, json={"status": "done"}, headers=alice.headers
    ).get_json()
    put = client.put(url, json={"title": "New"}, headers=alice.headers).get_json()

    assert patched["description"] == "keep me" and patched["status"] == "done"
    assert (
        put["description"] == ""
        and put["priority"] == "medium"
        and put["status"] == "todo"
    )


def test_unknown_routes_and_methods_answer_in_the_error_shape(
    client: FlaskClient,
) -> None:
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.put("/api/v1/auth/login")

    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert set(wrong_method.get_json()) >= {"status", "code", "message"}
