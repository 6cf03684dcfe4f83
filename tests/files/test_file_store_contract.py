"""The contract every file store keeps, run against each adapter."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tasks_api.domain.errors import UnreadableDocument
from tasks_api.ports.files import FileStore, StoredFile

# Every byte value, repeated past one read chunk of either adapter.
EVERY_BYTE = bytes(range(256)) * 1200


def test_saved_bytes_come_back_unchanged_through_fetch(
    store: FileStore, tmp_path: Path
) -> None:
    destination = tmp_path / "fetched.bin"

    store.save("user-1/attachment-1", io.BytesIO(EVERY_BYTE), "application/pdf")
    store.fetch("user-1/attachment-1", destination)

    assert destination.read_bytes() == EVERY_BYTE


def test_saving_reports_the_key_and_the_size(store: FileStore) -> None:
    stored = store.save("user-1/attachment-1", io.BytesIO(EVERY_BYTE), "image/png")

    assert stored == StoredFile(key="user-1/attachment-1", size=len(EVERY_BYTE))


def test_saved_bytes_come_back_unchanged_through_open(store: FileStore) -> None:
    store.save("user-1/attachment-1", io.BytesIO(EVERY_BYTE), "image/png")

    with store.open("user-1/attachment-1") as stream:
        read_back = stream.read()

    assert read_back == EVERY_BYTE


def test_saving_again_under_a_key_replaces_the_bytes(
    store: FileStore, tmp_path: Path
) -> None:
    destination = tmp_path / "fetched.bin"
    store.save("user-1/attachment-1", io.BytesIO(b"first version"), "text/plain")

    store.save("user-1/attachment-1", io.BytesIO(b"second"), "text/plain")
    store.fetch("user-1/attachment-1", destination)

    assert destination.read_bytes() == b"second"


def test_the_same_name_under_two_users_holds_two_files(
    store: FileStore, tmp_path: Path
) -> None:
    store.save("user-1/attachment", io.BytesIO(b"one"), "text/plain")
    store.save("user-2/attachment", io.BytesIO(b"two"), "text/plain")

    store.fetch("user-1/attachment", tmp_path / "one")
    store.fetch("user-2/attachment", tmp_path / "two")

    assert (tmp_path / "one").read_bytes() == b"one"
    assert (tmp_path / "two").read_bytes() == b"two"


def test_a_deleted_file_cannot_be_fetched(store: FileStore, tmp_path: Path) -> None:
    store.save("user-1/attachment-1", io.BytesIO(EVERY_BYTE), "image/png")

    store.delete("user-1/attachment-1")

    with pytest.raises(UnreadableDocument) as raised:
        store.fetch("user-1/attachment-1", tmp_path / "fetched.bin")
    assert raised.value.code == "file_missing"


def test_a_deleted_file_cannot_be_opened(store: FileStore) -> None:
    store.save("user-1/attachment-1", io.BytesIO(EVERY_BYTE), "image/png")

    store.delete("user-1/attachment-1")

    with pytest.raises(UnreadableDocument) as raised:
        store.open("user-1/attachment-1")
    assert raised.value.code == "file_missing"


def test_a_key_never_saved_is_missing(store: FileStore, tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument) as raised:
        store.fetch("user-1/never-saved", tmp_path / "fetched.bin")

    assert raised.value.code == "file_missing"


def test_deleting_a_missing_file_is_not_an_error(store: FileStore) -> None:
    store.save("user-1/attachment-1", io.BytesIO(b"x"), "text/plain")
    store.delete("user-1/attachment-1")

    store.delete("user-1/attachment-1")
    store.delete("user-1/never-saved")

    with pytest.raises(UnreadableDocument):
        store.open("user-1/attachment-1")


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../b", ""])
def test_a_key_that_is_not_a_plain_relative_path_is_refused(
    store: FileStore, key: str
) -> None:
    with pytest.raises(ValueError):
        store.save(key, io.BytesIO(b"x"), "text/plain")
