"""Every storage adapter, opened fresh for each test.

``storage`` runs a test against the in-memory store, a SQLite file,
mongomock and, when ``MONGO_URL`` is set, a real MongoDB (a database of
its own per test, named after this run, dropped afterwards).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import mongomock
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tasks_api.adapters.storage.memory import InMemoryStorage
from tasks_api.adapters.storage.mongo import MongoStorage
from tasks_api.adapters.storage.sqlite import SqliteStorage
from tasks_api.domain.model import User
from tasks_api.ports.storage import Storage

MONGO_URL = os.environ.get("MONGO_URL")
MONGO_KINDS = ["mongomock"] + (["mongo"] if MONGO_URL else [])
STORES = ["memory", "sqlite", *MONGO_KINDS]
# mongomock runs find_one_and_update as a read then a write, so races
# between threads can only be tested against the other stores.
ATOMIC_STORES = [kind for kind in STORES if kind != "mongomock"]

_RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()


@pytest.fixture(scope="session")
def mongo_client() -> Iterator[MongoClient]:
    """The real MongoDB at MONGO_URL; asked for only when it is set."""
    client: MongoClient = MongoClient(
        MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    yield client
    client.close()


@pytest.fixture(params=MONGO_KINDS)
def mongo_database(request: pytest.FixtureRequest) -> Database:
    """A database no other test uses, in mongomock or the real server."""
    return _fresh_mongo_database(request, request.param)


@pytest.fixture(params=STORES)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A migrated, empty store of each kind."""
    store = _open(request, request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture(params=ATOMIC_STORES)
def atomic_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A migrated, empty store of each kind whose writes are atomic."""
    store = _open(request, request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture
def owner(storage: Storage) -> User:
    """A stored user who owns what a test makes."""
    user = User(
        email=f"{uuid.uuid4().hex[:8]}@example.com",
        name="Owner",
        password_hash="hash",
    )
    storage.users.add(user)
    return user


def _open(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Storage:
    store: Storage
    if kind == "memory":
        store = InMemoryStorage()
    elif kind == "sqlite":
        store = SqliteStorage(tmp_path / "tasks.db")
    else:
        store = MongoStorage(_fresh_mongo_database(request, kind))
    store.migrate()
    return store


def _fresh_mongo_database(request: pytest.FixtureRequest, kind: str) -> Database:
    name = f"tasks_api_test_{_RUN}_{next(_numbers)}"
    if kind == "mongomock":
        return mongomock.MongoClient()[name]

    client: MongoClient = request.getfixturevalue("mongo_client")
    request.addfinalizer(lambda: client.drop_database(name))
    return client[name]
