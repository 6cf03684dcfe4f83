"""Registering, logging in, and the token cases that must answer 401."""

from __future__ import annotations

import base64
import json
import time

import jwt
from accounts import TEST_SECRET, Account, register
from flask.testing import FlaskClient


def test_register_then_login_returns_a_bearer_token(client: FlaskClient) -> None:
    account = register(client, "carol@example.com")

    me = client.get("/api/v1/auth/me", headers=account.headers)

    assert me.status_code == 200
    assert me.get_json()["email"] == "carol@example.com"
    assert "password" not in me.get_json() and "password_hash" not in me.get_json()


def test_login_answers_token_type_and_lifetime(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    ).get_json()

    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    claims = jwt.decode(answer["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert {"sub", "iat", "exp"} <= set(claims)


def test_email_is_unique_whatever_its_case(client: FlaskClient, alice: Account) -> None:
    again = client.post(
        "/api/v1/auth/register",
        json={
            "email": "ALICE@Example.com",
            "password": "another password",
            "name": "A",
        },
    )

    assert again.status_code == 409
    assert again.get_json()["code"] == "email_taken"


def test_login_accepts_the_email_in_another_case(
    client: FlaskClient, alice: Account
) -> None:
    login = client.post(
        "/api/v1/auth/login",
        json={"email": "Alice@EXAMPLE.com", "password": alice.password},
    )

    assert login.status_code == 200


def test_wrong_password_and_unknown_email_fail_alike(
    client: FlaskClient, alice: Account
) -> None:
    wrong = client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": "nope nope"}
    )
    unknown = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@example.com", "password": "nope nope"},
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"]


def test_a_short_password_is_refused(client: FlaskClient) -> None:
    answer = client.post(
        "/api/v1/auth/register",
        json={"email": "d@example.com", "password": "short", "name": "D"},
    )

    assert answer.status_code == 422
    assert "password" in answer.get_json()["errors"]["json"]


def _forge(claims: dict, key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _me(client: FlaskClient, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/api/v1/auth/me", headers=headers).status_code


def test_every_bad_token_gets_401(client: FlaskClient, alice: Account) -> None:
    now = int(time.time())
    valid = {"sub": alice.id, "iat": now, "exp": now + 60}
    tampered = alice.token[:-4] + (
        "AAAA" if not alice.token.endswith("AAAA") else "BBBB"
    )

    cases = {
        "missing": None,
        "empty": "",
        "garbage": "not-a-token",
        "expired": _forge({**valid, "iat": now - 120, "exp": now - 60}),
        "tampered signature": tampered,
        "alg none": _unsigned(valid),
        "another key": _forge(valid, key="another-secret-that-is-also-long-enough!!"),
        "HS512": _forge(valid, algorithm="HS512"),
        "no exp": _forge({"sub": alice.id, "iat": now}),
        "no iat": _forge({"sub": alice.id, "exp": now + 60}),
        "no sub": _forge({"iat": now, "exp": now + 60}),
        "unknown user": _forge({**valid, "sub": "0" * 32}),
    }

    statuses = {name: _me(client, token) for name, token in cases.items()}

    assert statuses == dict.fromkeys(cases, 401)
    assert _me(client, _forge(valid)) == 200


def test_a_401_says_how_to_authenticate(client: FlaskClient) -> None:
    answer = client.get("/api/v1/auth/me")

    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.get_json()["code"] == "unauthenticated"


def test_logout_revokes_every_earlier_token(
    client: FlaskClient, alice: Account
) -> None:
    second_device = client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    ).get_json()["access_token"]

    logout = client.post("/api/v1/auth/logout", headers=alice.headers)

    assert logout.status_code == 204
    assert _me(client, alice.token) == 401
    assert _me(client, second_device) == 401


def test_a_password_change_revokes_old_tokens_and_returns_a_new_one(
    client: FlaskClient, alice: Account
) -> None:
    changed = client.post(
        "/api/v1/auth/password",
        json={
            "current_password": alice.password,
            "new_password": "a brand new password",
        },
        headers=alice.headers,
    )

    assert changed.status_code == 200
    assert _me(client, alice.token) == 401
    assert _me(client, changed.get_json()["access_token"]) == 200
    old_login = client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    )
    assert old_login.status_code == 401


def test_a_password_change_needs_the_current_password(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.post(
        "/api/v1/auth/password",
        json={
            "current_password": "not it at all",
            "new_password": "a brand new password",
        },
        headers=alice.headers,
    )

    assert answer.status_code == 422
    assert "current_password" in answer.get_json()["errors"]["json"]
    assert _me(client, alice.token) == 200
