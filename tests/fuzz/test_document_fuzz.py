"""Fuzzing the reader's pre-checks: opening a document and drawing its pages.

``open_document`` checks the type, the page count, encryption, damage and
the declared pixels before any page is decoded; drawing a page decodes or
renders it. For any file, each step either works or raises
``UnreadableDocument``: anything else (a PDFium error, an OpenCV error, a
struct error, a page over the pixel limit) is a bug.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from ocr.documents import text_pdf

from fuzz.samples import examples, files, valid_samples
from tasks_api.adapters.ocr.documents import open_document
from tasks_api.domain.errors import UnreadableDocument
from tasks_api.domain.media import SNIFF_BYTES, sniff_media_type

# Decoding and rendering take milliseconds on these tiny files; the
# deadline only stops a decoder that hangs on some input.
BOUNDED = settings(max_examples=examples(600), deadline=20_000)
# Pixel limits below, at and far above the 24 x 16 samples; at each of
# them a 300 dpi PDF page must be drawn smaller.
PIXEL_LIMITS = st.sampled_from([100, 384, 250_000])
PAGE_LIMITS = st.integers(min_value=1, max_value=3)


@contextlib.contextmanager
def written(data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        yield path


def read_every_page(path: Path, max_pages: int, max_pixels: int) -> int:
    """Open and draw every page; the number of pages, or raise."""
    document = open_document(path, max_pages=max_pages, max_pixels=max_pixels)
    try:
        assert 1 <= document.count <= max_pages
        assert document.media_type is sniff_media_type(path.read_bytes()[:SNIFF_BYTES])
        for index in range(document.count):
            page = document.page(index)
            if isinstance(page, str):
                continue
            pixels = page()
            assert isinstance(pixels, np.ndarray)
            assert pixels.ndim == 2 and pixels.dtype == np.uint8
            height, width = pixels.shape
            assert height * width <= max_pixels
        return document.count
    finally:
        document.close()


def outcome(data: bytes, max_pages: int, max_pixels: int) -> None:
    """Read ``data``; an ``UnreadableDocument`` is an answer, not a failure."""
    with written(data) as path:
        try:
            pages = read_every_page(path, max_pages, max_pixels)
        except UnreadableDocument as refused:
            event(f"refused: {refused.code}")
        else:
            event(f"read {pages} page(s)")


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("png", 1),
        ("jpeg", 1),
        ("tiff", 2),
        ("bmp", 1),
        ("webp", 1),
        ("text_pdf", 2),
        ("scanned_pdf", 2),
        ("text", 1),
    ],
)
def test_every_undamaged_sample_is_read_page_by_page(name: str, pages: int) -> None:
    with written(valid_samples()[name]) as path:
        count = read_every_page(path, max_pages=3, max_pixels=250_000)

    assert count == pages


@pytest.mark.parametrize(
    ("name", "max_pages", "max_pixels", "code"),
    [
        ("locked_pdf", 3, 250_000, "encrypted_pdf"),
        ("tiff", 1, 250_000, "too_many_pages"),
        ("text_pdf", 1, 250_000, "too_many_pages"),
        ("scanned_pdf", 1, 250_000, "too_many_pages"),
        ("png", 3, 100, "too_many_pixels"),
        ("tiff", 3, 100, "too_many_pixels"),
    ],
)
def test_the_pre_checks_refuse_what_they_promise_to(
    name: str, max_pages: int, max_pixels: int, code: str
) -> None:
    with (
        written(valid_samples()[name]) as path,
        pytest.raises(UnreadableDocument) as refused,
    ):
        read_every_page(path, max_pages=max_pages, max_pixels=max_pixels)

    assert refused.value.code == code


@pytest.mark.parametrize(
    "media_box",
    [b"0 0 2147483648 1", b"0 0 1 2147483648", b"0 0 14400 0.01", b"0 0 1e38 1e38"],
)
def test_a_long_thin_pdf_page_is_refused_or_drawn_within_the_limit(
    media_box: bytes,
) -> None:
    # Each side of a rendered page is rounded up to a whole pixel: a side
    # thinner than a pixel must not let the other one run past the limit.
    # Too few letters to count as a text layer, so the page is drawn.
    data = text_pdf([["Thin."]]).replace(b"0 0 612 792", media_box)

    with written(data) as path, contextlib.suppress(UnreadableDocument):
        read_every_page(path, max_pages=1, max_pixels=250_000)


@BOUNDED
@given(files(), PAGE_LIMITS, PIXEL_LIMITS)
def test_any_file_is_read_or_refused_as_unreadable(
    data: bytes, max_pages: int, max_pixels: int
) -> None:
    outcome(data, max_pages, max_pixels)


@BOUNDED
@given(files(("text_pdf", "scanned_pdf", "locked_pdf")), PAGE_LIMITS, PIXEL_LIMITS)
def test_any_damaged_pdf_is_read_or_refused_as_unreadable(
    data: bytes, max_pages: int, max_pixels: int
) -> None:
    outcome(data, max_pages, max_pixels)
