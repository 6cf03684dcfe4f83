"""A text reader for transport tests, importable by worker subprocesses too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from tasks_api.ports.ocr import PageText, TextReader


class LineReader(TextReader):
    """Reads a text file, one line a page: OCR is not what these tests test."""

    def languages(self) -> frozenset[str]:
        return frozenset({"eng"})

    def read(
        self,
        path: Path,
        media_type: str,
        language: str,
        is_cancelled: Callable[[], bool],
    ) -> Iterator[PageText]:
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            yield PageText(number=number, total=len(lines), text=line)
