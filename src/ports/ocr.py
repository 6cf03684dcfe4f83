"""OCR port: the text of a document, page by page."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PageText:
    """The text of one page; ``number`` counts from 1 up to ``total``."""

    number: int
    total: int
    text: str


class TextReader(abc.ABC):
    """Reads the text out of an image, a scanned or digital PDF, or plain text."""

    @abc.abstractmethod
    def languages(self) -> frozenset[str]:
        """The language codes this reader can read (``eng``, ``deu``...)."""

    @abc.abstractmethod
    def read(
        self,
        path: Path,
        media_type: str,
        language: str,
        is_cancelled: Callable[[], bool],
    ) -> Iterator[PageText]:
        """Yield every page's text in page order.

        Raises ``UnreadableDocument`` for a document that cannot be read and
        ``JobCancelled`` once ``is_cancelled`` turns true; it asks between
        pages and, where it can, while a page is being read.
        """
