"""Accounts for API tests: register a user and act as them."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@dataclass
class Account:
    """A registered user and the headers that act as them."""

    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(
    client: FlaskClient, email: str, password: str = "correct horse battery"
) -> Account:
    created = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "name": "Test"},
    )
    assert created.status_code == 201, created.get_json()
    login = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}
    )
    assert login.status_code == 200, login.get_json()
    return Account(
        created.get_json()["id"], email, password, login.get_json()["access_token"]
    )
