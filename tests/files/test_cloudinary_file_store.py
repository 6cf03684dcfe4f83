"""What the Cloudinary store adds to the contract, against the fake server.

The real SDK talks to ``FakeCloudinary`` on 127.0.0.1; nothing is patched.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from fakes.cloudinary_server import FakeCloudinary

from tasks_api.adapters.files.cloudinary import (
    CloudinaryFileStore,
    CloudinaryRefused,
)
from tasks_api.domain.errors import TransientFailure, UnreadableDocument

if TYPE_CHECKING:
    from .conftest import CloudinaryStoreFactory

KEY = "user-1/attachment-1"


def save_bytes(store: CloudinaryFileStore, data: bytes = b"%PDF-1.7 ...") -> None:
    store.save(KEY, io.BytesIO(data), "application/pdf")


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_files_are_uploaded_as_private_raw_assets_named_by_key(
    cloudinary_store: CloudinaryFileStore, cloudinary_server: FakeCloudinary
) -> None:
    save_bytes(cloudinary_store)

    [upload] = cloudinary_server.calls_of("upload")
    assert upload.resource_type == "raw"
    assert upload.params["type"] == "private"
    assert upload.params["public_id"] == KEY
    assert list(cloudinary_server.assets) == [("raw", "private", KEY)]


def test_deleting_destroys_the_private_raw_asset(
    cloudinary_store: CloudinaryFileStore, cloudinary_server: FakeCloudinary
) -> None:
    save_bytes(cloudinary_store)

    cloudinary_store.delete(KEY)

    [destroy] = cloudinary_server.calls_of("destroy")
    assert destroy.resource_type == "raw"
    assert destroy.params["type"] == "private"
    assert destroy.params["public_id"] == KEY
    assert cloudinary_server.assets == {}


def test_the_download_url_is_signed_and_expires_after_the_ttl(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_server: FakeCloudinary,
) -> None:
    now = float(int(time.time()))
    store = make_cloudinary_store(url_ttl=120, clock=lambda: now)
    save_bytes(store, b"the bytes")

    url = store.download_url(KEY, "report.pdf")

    assert url is not None
    assert url.startswith(f"{cloudinary_server.url}/v1_1/fake-cloud/raw/download?")
    query = query_of(url)
    assert query["public_id"] == KEY
    assert query["type"] == "private"
    assert query["expires_at"] == str(int(now) + 120)
    assert query["signature"] == cloudinary_server.signature_of(query)
    assert requests.get(url, timeout=5).content == b"the bytes"


def test_a_download_url_with_a_changed_key_is_refused(
    cloudinary_store: CloudinaryFileStore, cloudinary_server: FakeCloudinary
) -> None:
    save_bytes(cloudinary_store)
    cloudinary_store.save("user-2/secret", io.BytesIO(b"not yours"), "text/plain")
    url = cloudinary_store.download_url(KEY, "report.pdf")
    assert url is not None
    query = query_of(url) | {"public_id": "user-2/secret"}

    response = requests.get(url.split("?")[0] + "?" + urlencode(query), timeout=5)

    assert response.status_code == 401


def test_an_expired_download_url_is_refused(
    make_cloudinary_store: CloudinaryStoreFactory,
    tmp_path: Path,
) -> None:
    an_hour_ago = time.time() - 3600
    store = make_cloudinary_store(clock=lambda: an_hour_ago)
    save_bytes(store)
    url = store.download_url(KEY, "report.pdf")
    assert url is not None

    response = requests.get(url, timeout=5)

    assert response.status_code == 401
    with pytest.raises(CloudinaryRefused):
        store.fetch(KEY, tmp_path / "copy")


def test_downloads_can_be_left_to_the_api(
    make_cloudinary_store: CloudinaryStoreFactory,
) -> None:
    store = make_cloudinary_store(direct_downloads=False)

    assert store.download_url(KEY, "report.pdf") is None


def test_sha256_signatures_are_accepted(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_server: FakeCloudinary,
    tmp_path: Path,
) -> None:
    store = make_cloudinary_store(signature_algorithm="sha256")

    save_bytes(store, b"signed the long way")
    store.fetch(KEY, tmp_path / "copy")

    assert (tmp_path / "copy").read_bytes() == b"signed the long way"
    [upload] = cloudinary_server.calls_of("upload")
    assert len(upload.params["signature"]) == 64


def test_a_wrong_secret_is_refused_and_not_retried(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_server: FakeCloudinary,
) -> None:
    store = make_cloudinary_store(api_secret="not-the-secret")

    with pytest.raises(CloudinaryRefused, match="Invalid Signature"):
        save_bytes(store)

    assert cloudinary_server.assets == {}


def test_a_download_signed_with_a_wrong_secret_is_refused(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_store: CloudinaryFileStore,
    tmp_path: Path,
) -> None:
    save_bytes(cloudinary_store)
    store = make_cloudinary_store(api_secret="not-the-secret")

    with pytest.raises(CloudinaryRefused):
        store.fetch(KEY, tmp_path / "copy")

    assert not (tmp_path / "copy").exists()


def test_a_server_error_on_download_is_transient(
    cloudinary_store: CloudinaryFileStore,
    cloudinary_server: FakeCloudinary,
    tmp_path: Path,
) -> None:
    save_bytes(cloudinary_store)
    cloudinary_server.script("download", status=500)

    with pytest.raises(TransientFailure):
        cloudinary_store.fetch(KEY, tmp_path / "copy")

    assert not (tmp_path / "copy").exists()


def test_a_download_slower_than_the_timeout_is_transient(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_server: FakeCloudinary,
    tmp_path: Path,
) -> None:
    store = make_cloudinary_store(timeout=0.2)
    save_bytes(store)
    cloudinary_server.script("download", delay=2.0)

    with pytest.raises(TransientFailure):
        store.fetch(KEY, tmp_path / "copy")


def test_a_server_error_on_upload_is_transient(
    cloudinary_store: CloudinaryFileStore, cloudinary_server: FakeCloudinary
) -> None:
    cloudinary_server.script("upload", status=500)

    with pytest.raises(TransientFailure):
        save_bytes(cloudinary_store)


def test_an_upload_slower_than_the_timeout_is_transient(
    make_cloudinary_store: CloudinaryStoreFactory,
    cloudinary_server: FakeCloudinary,
) -> None:
    store = make_cloudinary_store(timeout=0.2)
    cloudinary_server.script("upload", delay=2.0)

    with pytest.raises(TransientFailure):
        save_bytes(store)


def test_a_server_error_on_delete_is_transient(
    cloudinary_store: CloudinaryFileStore, cloudinary_server: FakeCloudinary
) -> None:
    save_bytes(cloudinary_store)
    cloudinary_server.script("destroy", status=503)

    with pytest.raises(TransientFailure):
        cloudinary_store.delete(KEY)

    assert list(cloudinary_server.assets) == [("raw", "private", KEY)]


@pytest.mark.parametrize("operation", ["save", "fetch", "delete"])
def test_an_unreachable_server_is_transient(
    make_cloudinary_store: CloudinaryStoreFactory,
    tmp_path: Path,
    operation: str,
) -> None:
    store = make_cloudinary_store(api_url=closed_port_url())
    calls = {
        "save": lambda: save_bytes(store),
        "fetch": lambda: store.fetch(KEY, tmp_path / "copy"),
        "delete": lambda: store.delete(KEY),
    }

    with pytest.raises(TransientFailure):
        calls[operation]()


def test_an_empty_file_is_refused(cloudinary_store: CloudinaryFileStore) -> None:
    with pytest.raises(CloudinaryRefused, match="Empty file"):
        save_bytes(cloudinary_store, b"")


def test_a_missing_file_opened_for_download_is_missing(
    cloudinary_store: CloudinaryFileStore,
) -> None:
    with pytest.raises(UnreadableDocument) as raised:
        cloudinary_store.open("user-1/never-saved")

    assert raised.value.code == "file_missing"


def test_each_call_to_cloudinary_logs_one_line(
    cloudinary_store: CloudinaryFileStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tasks_api.adapters.files.cloudinary")

    save_bytes(cloudinary_store)
    cloudinary_store.fetch(KEY, tmp_path / "copy")
    cloudinary_store.delete(KEY)

    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3
    for line, operation in zip(lines, ["upload", "download", "destroy"], strict=True):
        assert line.startswith(f"Cloudinary {operation} of {KEY!r}: ok")
        assert line.endswith(" ms.")
