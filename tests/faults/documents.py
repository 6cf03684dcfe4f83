"""Small scanned documents, each with text of its own.

Every document is an image-only PDF, so the worker renders and reads
each page with Tesseract; a different seed gives different words, so a
job that came back with another job's text would show.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ocr.documents import draw_page, sentences

PAGE_SIZE = (800, 560)


@dataclass(frozen=True)
class Document:
    name: str
    data: bytes
    text: str


def scanned_pdf(seed: int, pages: int = 2, words: int = 24) -> Document:
    """A scanned PDF of ``pages`` pages, and the text drawn on them."""
    drawn = [
        draw_page(sentences(seed * 100 + n, words), size=PAGE_SIZE)
        for n in range(pages)
    ]
    images = [page.convert("L") for page, _ in drawn]
    buffer = io.BytesIO()
    images[0].save(
        buffer, "PDF", resolution=300, save_all=True, append_images=images[1:]
    )
    text = "\n".join(text for _, text in drawn)
    return Document(f"scan-{seed}.pdf", buffer.getvalue(), text)


def words_found(expected: str, got: str) -> float:
    """Share of the expected words that the reading contains."""
    wanted = [w.strip(".,;?").lower() for w in expected.split()]
    have = {w.strip(".,;?").lower() for w in got.split()}
    return sum(w in have for w in wanted) / len(wanted)
