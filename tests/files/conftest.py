"""Fixtures for the file store tests: a local store and a Cloudinary one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from fakes.cloudinary_server import FakeCloudinary

from tasks_api.adapters.files.cloudinary import CloudinaryFileStore
from tasks_api.adapters.files.local import LocalFileStore
from tasks_api.ports.files import FileStore


@pytest.fixture(scope="module")
def running_cloudinary() -> Iterator[FakeCloudinary]:
    """One fake Cloudinary per test module; ``cloudinary_server`` resets it."""
    with FakeCloudinary() as server:
        yield server


@pytest.fixture
def cloudinary_server(running_cloudinary: FakeCloudinary) -> FakeCloudinary:
    """The fake Cloudinary, with no assets, calls or faults left over."""
    running_cloudinary.reset()
    return running_cloudinary


class CloudinaryStoreFactory(Protocol):
    def __call__(self, **overrides: Any) -> CloudinaryFileStore: ...


@pytest.fixture
def make_cloudinary_store(
    cloudinary_server: FakeCloudinary,
) -> CloudinaryStoreFactory:
    """Build Cloudinary stores pointed at the fake, settings overridable."""

    def make(**overrides: Any) -> CloudinaryFileStore:
        settings: dict[str, Any] = {
            "cloud_name": cloudinary_server.cloud_name,
            "api_key": cloudinary_server.api_key,
            "api_secret": cloudinary_server.api_secret,
            "api_url": cloudinary_server.url,
            "timeout": 2.0,
        }
        return CloudinaryFileStore(**(settings | overrides))

    return make


@pytest.fixture
def cloudinary_store(
    make_cloudinary_store: CloudinaryStoreFactory,
) -> CloudinaryFileStore:
    """A Cloudinary store talking to the fake through the real SDK."""
    return make_cloudinary_store()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalFileStore:
    """A local store under a fresh temporary directory."""
    return LocalFileStore(tmp_path / "files")


@pytest.fixture(params=["local", "cloudinary"])
def store(request: pytest.FixtureRequest) -> FileStore:
    """Each file store in turn, for the contract every one must keep."""
    return request.getfixturevalue(f"{request.param}_store")
