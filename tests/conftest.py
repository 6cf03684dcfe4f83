"""Fixtures shared by the suites: settings, a container, the app, users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts import TEST_SECRET, Account, register
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from tasks_api.adapters.security.passwords import Argon2PasswordHasher
from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.entrypoints.bootstrap import build_container
from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {"DATA_DIR": str(tmp_path / "data"), "JWT_SECRET": TEST_SECRET}
    )


def cheap_password_hasher() -> Argon2PasswordHasher:
    """Argon2id at its lowest cost: the same code path, a thousandth of the time."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def services(settings: Settings) -> Iterator[Container]:
    """The real container, with in-memory storage and cheap password hashing."""
    container = build_container(settings)
    container.storage.override(providers.Singleton(InMemoryStorage))
    container.password_hasher.override(providers.Singleton(cheap_password_hasher))
    yield container
    container.unwire()
    container.reset_singletons()


@pytest.fixture
def app(services: Container) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def alice(client: FlaskClient) -> Account:
    return register(client, "alice@example.com")


@pytest.fixture
def bob(client: FlaskClient) -> Account:
    return register(client, "bob@example.com")
