"""What the local file store adds to the contract: paths and atomic saves."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tasks_api.adapters.files.local import LocalFileStore
from tasks_api.domain.errors import UnreadableDocument


class FailingSource(io.RawIOBase):
    """A stream that yields some bytes, then fails like a dropped upload."""

    def __init__(self, good_bytes: bytes) -> None:
        self._pending = good_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            raise OSError("The client went away mid-upload.")
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk


def files_under(root: Path) -> list[Path]:
    """Every file below ``root``, hidden ones included."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_a_file_is_kept_at_its_key_under_the_root(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")

    store.save("user-1/attachment-1", io.BytesIO(b"hello"), "text/plain")

    assert files_under(tmp_path) == [tmp_path / "files/user-1/attachment-1"]
    assert (tmp_path / "files/user-1/attachment-1").read_bytes() == b"hello"


@pytest.mark.parametrize(
    "key",
    [
        "..",
        "../outside",
        "user-1/../../outside",
        "/etc/passwd",
        "user-1\\..\\outside",
        "user-1/attach\x00ment",
        "user-1//attachment",
        "user-1/./attachment",
        "user-1/",
        "",
    ],
)
@pytest.mark.parametrize("operation", ["save", "fetch", "open", "delete", "url"])
def test_a_key_that_could_leave_the_root_is_refused(
    local_store: LocalFileStore, tmp_path: Path, key: str, operation: str
) -> None:
    calls = {
        "save": lambda: local_store.save(key, io.BytesIO(b"x"), "text/plain"),
        "fetch": lambda: local_store.fetch(key, tmp_path / "copy"),
        "open": lambda: local_store.open(key),
        "delete": lambda: local_store.delete(key),
        "url": lambda: local_store.download_url(key, "name.pdf"),
    }

    with pytest.raises(ValueError):
        calls[operation]()

    assert files_under(tmp_path) == []


def test_a_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "files/user-1").symlink_to(outside)

    with pytest.raises(ValueError):
        store.save("user-1/attachment-1", io.BytesIO(b"x"), "text/plain")

    assert list(outside.iterdir()) == []


def test_a_save_that_fails_midway_leaves_no_file_behind(
    local_store: LocalFileStore,
) -> None:
    source = FailingSource(b"A" * 3_000_000)

    with pytest.raises(OSError, match="went away"):
        local_store.save("user-1/attachment-1", source, "application/pdf")

    assert files_under(local_store.root) == []


def test_a_save_that_fails_midway_keeps_the_previous_bytes(
    local_store: LocalFileStore,
) -> None:
    local_store.save("user-1/attachment-1", io.BytesIO(b"version one"), "text/plain")

    with pytest.raises(OSError):
        local_store.save("user-1/attachment-1", FailingSource(b"B" * 10), "text/plain")

    assert files_under(local_store.root) == [local_store.root / "user-1/attachment-1"]
    with local_store.open("user-1/attachment-1") as stream:
        assert stream.read() == b"version one"


def test_a_successful_save_leaves_no_temporary_file(
    local_store: LocalFileStore,
) -> None:
    local_store.save("user-1/attachment-1", io.BytesIO(b"one"), "text/plain")
    local_store.save("user-1/attachment-1", io.BytesIO(b"two"), "text/plain")

    assert files_under(local_store.root) == [local_store.root / "user-1/attachment-1"]


def test_downloads_are_streamed_by_the_api(local_store: LocalFileStore) -> None:
    local_store.save("user-1/attachment-1", io.BytesIO(b"x"), "text/plain")

    assert local_store.download_url("user-1/attachment-1", "report.pdf") is None


def test_a_key_that_names_a_folder_is_missing_not_a_crash(
    local_store: LocalFileStore, tmp_path: Path
) -> None:
    local_store.save("user-1/attachment-1", io.BytesIO(b"x"), "text/plain")

    with pytest.raises(UnreadableDocument):
        local_store.fetch("user-1", tmp_path / "copy")
    local_store.delete("user-1")
    assert files_under(local_store.root) == [local_store.root / "user-1/attachment-1"]
