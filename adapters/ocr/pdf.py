"""PDF pages with pypdfium2: their text layer, or a picture to read.

PDFium is not thread-safe, not even across documents, and pypdfium2
leaves locking to its callers; every call here holds ``PDFIUM_LOCK``,
and objects are closed explicitly so no finalizer runs PDFium code on
some other thread later.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from tasks_api.domain.errors import UnreadableDocument

PDFIUM_LOCK = threading.RLock()

RENDER_DPI = 300
# A text layer is believed when it has this many letters or digits, and
# nearly all its characters are ones a person could read.
_MIN_TEXT_CHARACTERS = 20
_MIN_READABLE_SHARE = 0.9
# A page mostly covered by pictures is OCRed unless its text layer is long
# enough to be an OCR layer over a scan.
_PICTURE_SHARE = 0.5
_LONG_TEXT = 200


class PdfPages:
    """An open PDF whose pages are read in any order, from any thread."""

    def __init__(self, path: Path, max_pages: int, max_pixels: int) -> None:
        with PDFIUM_LOCK:
            try:
                self._document = pdfium.PdfDocument(str(path))
            except pdfium.PdfiumError as error:
                raise _unopenable(error) from error
            self.count = len(self._document)
        self._max_pixels = max_pixels

        if self.count > max_pages:
            self.close()
            raise UnreadableDocument(
                "too_many_pages",
                f"This PDF has {self.count} pages; at most {max_pages} are read.",
                pages=self.count,
            )
        if self.count == 0:
            self.close()
            raise UnreadableDocument("empty_document", "This PDF has no pages.")

    def text(self, index: int) -> str | None:
        """The page's own text if it has a real text layer, else None."""
        with PDFIUM_LOCK:
            page = self._page(index)
            try:
                text_page = page.get_textpage()
                try:
                    text = text_page.get_text_range()
                finally:
                    text_page.close()
                pictures = _picture_share(page)
            except pdfium.PdfiumError as error:
                raise _broken_page(index) from error
            finally:
                page.close()

        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not _is_real_text(text):
            return None
        # PDFium marks soft hyphens and the like with control characters.
        text = "".join(c for c in text if c in "\n\t" or not _is_junk(c))
        if pictures > _PICTURE_SHARE and len(text) < _LONG_TEXT:
            return None
        return text

    def render(self, index: int) -> np.ndarray:
        """The page as an 8-bit grayscale picture at 300 dpi or fewer.

        The resolution is lowered for pages so large that 300 dpi would
        pass ``max_pixels``.
        """
        with PDFIUM_LOCK:
            page = self._page(index)
            try:
                width, height = page.get_size()
                scale = RENDER_DPI / 72
                if width * height * scale * scale > self._max_pixels:
                    scale = math.sqrt(self._max_pixels / (width * height))
                # Each side is rounded up to a whole pixel, so a page thinner
                # than a pixel could still run far past the limit lengthwise.
                if (
                    math.ceil(width * scale) * math.ceil(height * scale)
                    > self._max_pixels
                ):
                    raise self._too_large(index)
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    if bitmap.width * bitmap.height > self._max_pixels:
                        raise self._too_large(index)
                    pixels = bitmap.to_numpy().copy()
                finally:
                    bitmap.close()
            except pdfium.PdfiumError as error:
                raise _broken_page(index) from error
            finally:
                page.close()
        if pixels.ndim == 3:
            pixels = pixels[:, :, 0]
        return pixels

    def _too_large(self, index: int) -> UnreadableDocument:
        return UnreadableDocument(
            "too_many_pixels",
            f"Page {index + 1} has a shape that cannot be drawn within the "
            f"limit of {self._max_pixels:,} pixels.",
            page=index + 1,
        )

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._document.close()

    def _page(self, index: int) -> pdfium.PdfPage:
        try:
            page = self._document[index]
        except pdfium.PdfiumError as error:
            raise _broken_page(index) from error
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            page.close()
            raise _broken_page(index)
        return page


def _unopenable(error: pdfium.PdfiumError) -> UnreadableDocument:
    if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return UnreadableDocument(
            "encrypted_pdf",
            "This PDF is protected by a password; upload a copy without one.",
        )
    return UnreadableDocument(
        "corrupt_pdf", "This PDF is damaged or incomplete and cannot be opened."
    )


def _broken_page(index: int) -> UnreadableDocument:
    return UnreadableDocument(
        "corrupt_pdf",
        f"Page {index + 1} of this PDF is damaged and cannot be read.",
        page=index + 1,
    )


def _is_real_text(text: str) -> bool:
    """Whether a text layer says something, rather than glyph-id junk."""
    letters = sum(1 for c in text if c.isalnum())
    if letters < _MIN_TEXT_CHARACTERS:
        return False
    # Fonts without a Unicode map come out as private-use or control
    # characters, or as replacement characters.
    unreadable = sum(1 for c in text if c not in "\n\t" and _is_junk(c))
    return unreadable <= (1 - _MIN_READABLE_SHARE) * len(text)


def _is_junk(character: str) -> bool:
    """A control, private-use, unassigned or replacement character."""
    return character == "\ufffd" or unicodedata.category(character) in (
        "Cc",
        "Co",
        "Cn",
    )


def _picture_share(page: pdfium.PdfPage) -> float:
    """How much of the page its largest picture covers, from 0 to 1."""
    width, height = page.get_size()
    largest = 0.0
    for item in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = item.get_bounds()
        largest = max(largest, (right - left) * (top - bottom))
    return min(1.0, largest / (width * height))
