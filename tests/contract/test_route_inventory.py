"""Every route is public on purpose, or guarded by a user token or the worker secret.

The walk reads the app's URL map, so a route added later must take a side
here: on the public list below, behind ``common.protected`` (401 without
a token), or in the internal blueprint (401 without the worker secret,
404 when the process has no WORKER_SECRET at all). The public OpenAPI
document describes exactly the API routes that are not the workers'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts import TEST_SECRET
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.entrypoints.bootstrap import build_container
from tasks_api.entrypoints.http.app import API_PREFIX, create_app
from tasks_api.entrypoints.http.console import ASSETS
from tasks_api.entrypoints.http.internal import WORKER_SECRET_HEADER
from tasks_api.entrypoints.settings import load_settings

# Endpoints anyone may call, each for a reason.
PUBLIC = {
    "ops.healthz": "liveness probe",
    "ops.readyz": "readiness probe",
    "metrics.metrics": "Prometheus scrape",
    "api-docs.openapi_json": "the OpenAPI document",
    "api-docs.openapi_swagger_ui": "the documentation page",
    "swagger_ui_assets": "the documentation page's scripts",
    "console.page": "the web console",
    "console.asset": "the web console's scripts and styles",
    "auth.Register": "creating an account",
    "auth.Login": "getting a token",
}
WORKER_BLUEPRINT = "internal"
# Served beside the API but not part of it: documentation and its assets.
NOT_DOCUMENTED = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui"}
NOT_DOCUMENTED |= {"swagger_ui_assets"}
WORKER_SECRET = "a-worker-secret-for-the-route-inventory-0123456789"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ARGUMENT = re.compile(r"<(?:[a-z_]+:)?(\w+)>")
# Real file names for the routes that serve files, so they answer 200.
FILE_ARGUMENTS = {
    "console.asset": sorted(p.name for p in ASSETS.iterdir() if p.is_file())[0],
    "swagger_ui_assets": "swagger-ui.css",
}


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule, method


def example_url(rule: Rule) -> str:
    """The rule with every argument filled in."""
    filename = FILE_ARGUMENTS.get(rule.endpoint, "f" * 32)
    return ARGUMENT.sub(
        lambda m: filename if m.group(1) == "filename" else "f" * 32, rule.rule
    )


def blueprint(rule: Rule) -> str:
    return rule.endpoint.split(".", 1)[0] if "." in rule.endpoint else ""


def is_error_shape(body: object, status: int) -> bool:
    return (
        isinstance(body, dict)
        and body.get("status") == status
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
    )


@pytest.fixture
def worker_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """An app whose process has a WORKER_SECRET, as production ones do."""
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "JWT_SECRET": TEST_SECRET,
            "WORKER_SECRET": WORKER_SECRET,
        }
    )
    services = build_container(settings)
    services.storage.override(providers.Singleton(InMemoryStorage))
    yield create_app(services).test_client()
    services.reset_singletons()


def test_every_route_takes_a_side(app: Flask, client: FlaskClient) -> None:
    sides = {}
    for rule, method in routes(app):
        if rule.endpoint in PUBLIC:
            side = "public"
        elif blueprint(rule) == WORKER_BLUEPRINT:
            side = "worker secret"
        else:
            answer = client.open(example_url(rule), method=method)
            side = "user token" if answer.status_code == 401 else "unguarded"
        sides[f"{method} {rule.rule}"] = side

    unguarded = sorted(route for route, side in sides.items() if side == "unguarded")
    assert unguarded == [], "routes neither public on purpose nor guarded"
    assert list(sides.values()).count("user token") >= 20


def test_every_public_route_answers_without_credentials(
    app: Flask, client: FlaskClient
) -> None:
    statuses = {
        f"{method} {rule.rule}": client.open(example_url(rule), method=method)
        for rule, method in routes(app)
        if rule.endpoint in PUBLIC
    }

    assert {route: answer.status_code for route, answer in statuses.items()} == {
        "GET /": 200,
        "GET /api/v1/docs": 200,
        "GET /api/v1/docs/assets/<path:filename>": 200,
        "GET /api/v1/openapi.json": 200,
        "GET /console/<path:filename>": 200,
        "GET /healthz": 200,
        "GET /metrics": 200,
        "GET /readyz": 200,
        # No body: refused as invalid input, not for want of a token.
        "POST /api/v1/auth/login": 422,
        "POST /api/v1/auth/register": 422,
    }
    assert set(PUBLIC) <= {rule.endpoint for rule, _ in routes(app)}


def test_user_routes_answer_401_in_our_error_shape_without_a_valid_token(
    app: Flask, client: FlaskClient
) -> None:
    user_routes = [
        (rule, method)
        for rule, method in routes(app)
        if rule.rule.startswith(f"{API_PREFIX}/")
        and rule.endpoint not in PUBLIC
        and blueprint(rule) != WORKER_BLUEPRINT
    ]

    refused = {}
    for rule, method in user_routes:
        for headers in ({}, {"Authorization": "Bearer not.a.token"}):
            answer = client.open(example_url(rule), method=method, headers=headers)
            refused[(method, rule.rule, bool(headers))] = (
                answer.status_code == 401
                and answer.headers.get("WWW-Authenticate") == "Bearer"
                and is_error_shape(answer.get_json(silent=True), 401)
            )

    assert len(refused) >= 40
    assert refused == dict.fromkeys(refused, True)


def test_worker_routes_are_not_found_without_a_worker_secret_configured(
    app: Flask, client: FlaskClient
) -> None:
    worker_routes = [
        (rule, method)
        for rule, method in routes(app)
        if blueprint(rule) == WORKER_BLUEPRINT
    ]

    statuses = {
        (method, rule.rule): client.open(
            example_url(rule),
            method=method,
            headers={WORKER_SECRET_HEADER: "anything at all"},
        ).status_code
        for rule, method in worker_routes
    }

    assert len(statuses) >= 10
    assert statuses == dict.fromkeys(statuses, 404)


@pytest.mark.parametrize(
    "headers",
    [{}, {WORKER_SECRET_HEADER: "wrong"}, {WORKER_SECRET_HEADER: "wrong-é"}],
    ids=["no-secret", "wrong-secret", "non-ascii-secret"],
)
def test_worker_routes_answer_401_without_the_worker_secret(
    app: Flask, worker_client: FlaskClient, headers: dict[str, str]
) -> None:
    worker_routes = [
        (rule, method)
        for rule, method in routes(app)
        if blueprint(rule) == WORKER_BLUEPRINT
    ]

    refused = {}
    for rule, method in worker_routes:
        answer = worker_client.open(example_url(rule), method=method, headers=headers)
        refused[(method, rule.rule)] = answer.status_code == 401 and is_error_shape(
            answer.get_json(silent=True), 401
        )

    assert refused == dict.fromkeys(refused, True)


def test_the_worker_secret_opens_the_worker_routes(
    app: Flask, worker_client: FlaskClient
) -> None:
    # With the secret the guard lets the call through: what answers is
    # the route itself (no such job, or an invalid body), never a 401.
    statuses = {
        (method, rule.rule): worker_client.open(
            example_url(rule),
            method=method,
            headers={WORKER_SECRET_HEADER: WORKER_SECRET},
            json={},
        ).status_code
        for rule, method in routes(app)
        if blueprint(rule) == WORKER_BLUEPRINT
    }

    assert 401 not in statuses.values()
    assert set(statuses.values()) <= {200, 204, 404, 409, 422}


def test_the_openapi_paths_are_the_api_routes_but_the_workers(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get(f"{API_PREFIX}/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }

    served = {
        (method, ARGUMENT.sub(r"{\1}", rule.rule))
        for rule, method in routes(app)
        if rule.rule.startswith(f"{API_PREFIX}/")
        and blueprint(rule) != WORKER_BLUEPRINT
        and rule.endpoint not in NOT_DOCUMENTED
    }

    assert documented == served


def test_documented_security_matches_the_guard(app: Flask, client: FlaskClient) -> None:
    document = client.get(f"{API_PREFIX}/openapi.json").get_json()
    public_paths = {
        ARGUMENT.sub(r"{\1}", rule.rule)
        for rule, _ in routes(app)
        if rule.endpoint in PUBLIC
    }

    declared = {
        (method.upper(), path): any(
            "bearerAuth" in requirement for requirement in operation.get("security", [])
        )
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
    }

    assert declared == {route: route[1] not in public_paths for route in declared}
