"""Fixtures for the API tests."""

from __future__ import annotations

import pytest
from accounts import Account
from flask.testing import FlaskClient


@pytest.fixture
def alices_task(client: FlaskClient, alice: Account) -> str:
    """The id of a task of Alice's, in a project of hers, made through the API."""
    project = client.post(
        "/api/v1/projects", json={"name": "Scans"}, headers=alice.headers
    ).get_json()
    task = client.post(
        f"/api/v1/projects/{project['id']}/tasks",
        json={"title": "Read this"},
        headers=alice.headers,
    ).get_json()
    return task["id"]
