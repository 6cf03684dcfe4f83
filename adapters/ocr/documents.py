"""Opening an upload as pages: checked up front, decoded page by page.

Opening reads only headers: the type from the first bytes, the page
count, every page's declared size. A document that cannot be read, is
locked, has too many pages or declares too many pixels fails here with
``UnreadableDocument``, before any page is decoded. Pages are decoded
later, one at a time, on the thread that reads them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from tasks_api.adapters.ocr.cleanup import to_gray
from tasks_api.adapters.ocr.pdf import PdfPages
from tasks_api.domain.errors import UnreadableDocument
from tasks_api.domain.media import (
    SNIFF_BYTES,
    MediaType,
    declared_size,
    sniff_media_type,
    tiff_page_sizes,
)

# A page is either its own text or a way to draw it as a grayscale picture.
Page = str | Callable[[], np.ndarray]


class Document(abc.ABC):
    """An upload opened for reading, ``count`` pages long."""

    media_type: MediaType
    count: int

    @abc.abstractmethod
    def page(self, index: int) -> Page:
        """Page ``index`` (from 0): its text, or a function drawing it."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Let go of what the document holds open."""


def open_document(path: Path, max_pages: int, max_pixels: int) -> Document:
    """Open ``path`` after checking what can be checked without decoding.

    The type comes from the file's bytes, never from what the uploader
    said it was.
    """
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    media_type = sniff_media_type(head)

    if media_type is None:
        raise UnreadableDocument(
            "unsupported_media",
            "This file is not an image, a PDF or plain text that we can read.",
        )
    if media_type is MediaType.PDF:
        return PdfDocument(path, max_pages, max_pixels)
    data = path.read_bytes()
    if media_type is MediaType.TEXT:
        return TextDocument(data)
    if media_type is MediaType.TIFF:
        return TiffDocument(data, max_pages, max_pixels)
    return ImageDocument(media_type, data, max_pixels)


class TextDocument(Document):
    """Plain text: one page, its own text."""

    media_type = MediaType.TEXT
    count = 1

    def __init__(self, data: bytes) -> None:
        self._text = data.decode("utf-8-sig", errors="replace")

    def page(self, index: int) -> Page:
        return self._text


class ImageDocument(Document):
    """A single picture: PNG, JPEG, BMP or WEBP."""

    count = 1

    def __init__(self, media_type: MediaType, data: bytes, max_pixels: int) -> None:
        self.media_type = media_type
        _check_size(declared_size(data), max_pixels)
        self._data = data
        self._max_pixels = max_pixels

    def page(self, index: int) -> Page:
        return self._draw

    def _draw(self) -> np.ndarray:
        buffer = np.frombuffer(self._data, dtype=np.uint8)
        # JPEG is decoded to gray directly, which also applies its EXIF
        # orientation; other formats may carry transparency to lay on white.
        if self.media_type is MediaType.JPEG:
            flags = cv2.IMREAD_GRAYSCALE
        else:
            flags = cv2.IMREAD_UNCHANGED
        try:
            image = cv2.imdecode(buffer, flags)
        except cv2.error:
            image = None
        if image is None:
            raise _corrupt_image()
        _check_size((image.shape[1], image.shape[0]), self._max_pixels)
        return to_gray(image)


class TiffDocument(Document):
    """A TIFF of one or more pages."""

    media_type = MediaType.TIFF

    def __init__(self, data: bytes, max_pages: int, max_pixels: int) -> None:
        sizes = tiff_page_sizes(data, max_pages)
        if not sizes:
            raise _corrupt_image()
        if len(sizes) > max_pages:
            raise UnreadableDocument(
                "too_many_pages",
                f"This TIFF has more than {max_pages} pages; "
                f"at most {max_pages} are read.",
            )
        for size in sizes:
            _check_size(size, max_pixels)
        self.count = len(sizes)
        self._buffer = np.frombuffer(data, dtype=np.uint8)
        self._max_pixels = max_pixels

    def page(self, index: int) -> Page:
        return lambda: self._draw(index)

    def _draw(self, index: int) -> np.ndarray:
        try:
            ok, images = cv2.imdecodemulti(
                self._buffer, cv2.IMREAD_UNCHANGED, None, (index, index + 1)
            )
        except cv2.error:
            ok, images = False, []
        if not ok or not images:
            raise _corrupt_image(index)
        image = images[0]
        _check_size((image.shape[1], image.shape[0]), self._max_pixels)
        return to_gray(image)


class PdfDocument(Document):
    """A PDF: pages with a text layer give it, the others are rendered."""

    media_type = MediaType.PDF

    def __init__(self, path: Path, max_pages: int, max_pixels: int) -> None:
        self._pages = PdfPages(path, max_pages, max_pixels)
        self.count = self._pages.count

    def page(self, index: int) -> Page:
        text = self._pages.text(index)
        if text is not None:
            return text
        return lambda: self._pages.render(index)

    def close(self) -> None:
        self._pages.close()


def _check_size(size: tuple[int, int] | None, max_pixels: int) -> None:
    if size is None:
        raise _corrupt_image()
    width, height = size
    if width * height > max_pixels:
        raise UnreadableDocument(
            "too_many_pixels",
            f"This image is {width} x {height} pixels; images of at most "
            f"{max_pixels // 1_000_000} megapixels are read.",
            width=width,
            height=height,
        )


def _corrupt_image(index: int | None = None) -> UnreadableDocument:
    where = "This image" if index is None else f"Page {index + 1} of this image"
    return UnreadableDocument(
        "corrupt_image",
        f"{where} is damaged or incomplete and cannot be read.",
    )
