"""Fixtures for the OCR tests: a reader on the real Tesseract."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks_api.adapters.ocr.tesseract import TesseractReader

from .documents import FONT_PATH


@pytest.fixture(scope="session")
def reader() -> TesseractReader:
    """A reader with two workers, shared by the tests that need no limits."""
    assert FONT_PATH.exists(), f"the tests draw their pages with {FONT_PATH}"
    return TesseractReader(workers=2, page_timeout_seconds=30)


@pytest.fixture(autouse=True)
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every temporary file at a fresh folder; it must end up empty."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))

    yield folder

    assert list(folder.iterdir()) == [], "the reader left temporary files"
