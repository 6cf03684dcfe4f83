"""A file store on the local disk, for the embedded way of running."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from tasks_api.adapters.files.keys import check_key
from tasks_api.domain.errors import UnreadableDocument
from tasks_api.ports.files import FileStore, StoredFile

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024


class LocalFileStore(FileStore):
    """Keeps each file at ``<root>/<key>``; the API streams downloads itself.

    A save writes a hidden temporary file beside its target, flushes it to
    disk and renames it over the target, so a reader sees the old bytes or
    the new ones, never half a file, and a crash leaves at worst a stray
    ``.*.part`` file, never a torn file under a real key.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._resolved_root = self.root.resolve()

    def save(self, key: str, source: BinaryIO, media_type: str) -> StoredFile:
        """Store the bytes of ``source`` under ``key``, atomically."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )

        try:
            with os.fdopen(fd, "wb") as temp:
                size = _copy(source, temp)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

        _fsync_directory(target.parent)
        log.debug("Saved %r (%d bytes) under %s.", key, size, self.root)
        return StoredFile(key=key, size=size)

    def fetch(self, key: str, destination: Path) -> None:
        """Copy the file stored under ``key`` to ``destination``."""
        with self.open(key) as stored, destination.open("wb") as copy:
            shutil.copyfileobj(stored, copy, CHUNK_SIZE)

    def open(self, key: str) -> BinaryIO:
        """The stored file, opened for reading in binary mode."""
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise UnreadableDocument(
                "file_missing", "The stored file is gone.", key=key
            ) from None

    def download_url(self, key: str, filename: str) -> str | None:
        """None: there is no URL for a local file, the API streams it."""
        self._path(key)
        return None

    def delete(self, key: str) -> None:
        """Remove the file; a missing file is already removed."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return  # No file under this key: a folder or nothing at all.
        log.debug("Deleted %r under %s.", key, self.root)

    def _path(self, key: str) -> Path:
        path = self._resolved_root / check_key(key)
        if not path.resolve().is_relative_to(self._resolved_root):
            raise ValueError(f"A file key must stay inside the store: {key!r}")
        return path


def _copy(source: BinaryIO, target: BinaryIO) -> int:
    """Copy ``source`` to ``target`` in chunks and return the byte count."""
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        target.write(chunk)
        size += len(chunk)
    return size


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry, so a rename inside it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
