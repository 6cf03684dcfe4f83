"""Login throttling, client addresses behind proxies, and CORS."""

from __future__ import annotations

import logging
import socket
import uuid
from pathlib import Path

import pytest
from accounts import Account, register
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.http.limits import LoginThrottle
from tasks_api.entrypoints.settings import load_settings


def _app_with(services: Container, tmp_path: Path, **environ: str) -> Flask:
    settings = load_settings(
        {"DATA_DIR": str(tmp_path / "limits"), "JWT_SECRET": "s" * 40, **environ}
    )
    services.settings.override(providers.Object(settings))
    return create_app(services)


def _login(
    client: FlaskClient, email: str, password: str, address: str = "10.0.0.1"
) -> int:
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_failed_logins_for_one_account_are_throttled(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(services, tmp_path, LOGIN_FAILURES_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    alice = register(client, "alice@example.com")

    failures = [
        _login(client, alice.email, "wrong password", f"10.0.0.{n}") for n in range(3)
    ]
    blocked = _login(client, alice.email, alice.password, "10.0.0.9")
    other_account = _login(client, "someone@example.com", "whatever it is", "10.0.0.9")

    assert failures == [401, 401, 401]
    assert blocked == 429
    assert other_account == 401


def test_successful_logins_are_never_counted(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(services, tmp_path, LOGIN_FAILURES_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    alice = register(client, "alice@example.com")

    statuses = [_login(client, alice.email, alice.password) for _ in range(5)]

    assert statuses == [200] * 5


def test_failed_logins_from_one_address_are_throttled(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(services, tmp_path, LOGIN_FAILURES_PER_ADDRESS="2 per minute")
    client = app.test_client()

    tries = [_login(client, f"u{n}@example.com", "wrong password") for n in range(3)]
    elsewhere = _login(client, "u9@example.com", "wrong password", "10.9.9.9")

    assert tries == [401, 401, 429]
    assert elsewhere == 401
    answer = client.post(
        "/api/v1/auth/login",
        json={"email": "x@example.com", "password": "nope"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert answer.get_json()["code"] == "too_many"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(services, tmp_path, LOGIN_FAILURES_PER_ADDRESS="1 per minute")
    client = app.test_client()

    def attempt(forwarded: str) -> int:
        return client.post(
            "/api/v1/auth/login",
            json={"email": "a@example.com", "password": "nope nope"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        ).status_code

    assert [attempt("1.1.1.1"), attempt("2.2.2.2")] == [401, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(
        services,
        tmp_path,
        LOGIN_FAILURES_PER_ADDRESS="1 per minute",
        TRUSTED_PROXIES="1",
    )
    client = app.test_client()

    def attempt(forwarded: str) -> int:
        return client.post(
            "/api/v1/auth/login",
            json={"email": "a@example.com", "password": "nope nope"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        ).status_code

    assert [attempt("1.1.1.1"), attempt("2.2.2.2"), attempt("1.1.1.1")] == [
        401,
        401,
        429,
    ]


def test_cors_answers_only_configured_origins(
    services: Container, tmp_path: Path
) -> None:
    app = _app_with(services, tmp_path, CORS_ORIGINS="https://app.example.com")
    client = app.test_client()

    allowed = client.options(
        "/api/v1/projects",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
        },
    )
    refused = client.get(
        "/api/v1/projects", headers={"Origin": "https://evil.example.com"}
    )

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_without_cors_origins_no_cross_origin_header_is_sent(
    client: FlaskClient, alice: Account
) -> None:
    answer = client.get(
        "/api/v1/projects",
        headers={**alice.headers, "Origin": "https://app.example.com"},
    )

    assert "Access-Control-Allow-Origin" not in answer.headers


def test_with_redis_every_api_process_shares_the_failure_count(
    services: Container, tmp_path: Path
) -> None:
    redis_settings = {
        "LOGIN_FAILURES_PER_ACCOUNT": "2 per minute",
        "REDIS_HOST": "127.0.0.1",
        "WORKER_SECRET": "w" * 40,
    }
    first = _app_with(services, tmp_path, **redis_settings).test_client()
    second = create_app(services).test_client()
    # Counts in Redis outlive the test: a fresh account and address each run.
    email = f"{uuid.uuid4().hex}@example.com"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"

    statuses = [
        _login(first, email, "wrong password", address),
        _login(second, email, "wrong password", address),
        _login(first, email, "wrong password", address),
    ]

    assert statuses == [401, 401, 429]


def _strict_throttle_on_redis_port(port: int) -> LoginThrottle:
    """A throttle allowing one failure a minute, counting in Redis at ``port``."""
    return LoginThrottle(
        f"redis://127.0.0.1:{port}/0",
        per_address="1 per minute",
        per_account="1 per minute",
    )


def test_without_its_counter_store_the_throttle_lets_logins_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    throttle = _strict_throttle_on_redis_port(closed_port)

    with caplog.at_level(logging.WARNING):
        throttle.record_failure("10.0.0.1", "alice@example.com")
        throttle.check("10.0.0.1", "alice@example.com")

    assert "Login throttle unavailable" in caplog.text


def test_a_redis_that_never_answers_does_not_hold_logins_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A socket that takes connections into its backlog and never reads:
    # without a timeout, the throttle's first command would wait forever.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        throttle = _strict_throttle_on_redis_port(silent.getsockname()[1])

        with caplog.at_level(logging.WARNING):
            throttle.check("10.0.0.1", "alice@example.com")

    assert "Login throttle unavailable" in caplog.text
