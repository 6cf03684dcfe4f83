"""File store port: where uploaded files are kept."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int


class FileStore(abc.ABC):
    """Keeps uploads under keys of our own making, never a client's name."""

    @abc.abstractmethod
    def save(self, key: str, source: BinaryIO, media_type: str) -> StoredFile:
        """Store the bytes of ``source`` under ``key``."""

    @abc.abstractmethod
    def fetch(self, key: str, destination: Path) -> None:
        """Copy the file stored under ``key`` to ``destination``.

        Raises ``TransientFailure`` when the store could not be reached and
        ``UnreadableDocument`` when the file is gone.
        """

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the stored bytes, for downloads."""

    @abc.abstractmethod
    def download_url(self, key: str, filename: str) -> str | None:
        """A short-lived URL a client may fetch directly, or None.

        None means the API streams the bytes itself through ``open``.
        """

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file; removing a missing file is not an error."""
