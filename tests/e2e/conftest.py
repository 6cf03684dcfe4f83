"""A real embedded server (gunicorn + gevent, SQLite, in-process worker)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from ocr.documents import draw_page, sentences
from PIL import Image, ImageFilter
from servers import RunningProcess, api_server

from e2e.client import ApiClient


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    data_dir = tmp_path_factory.mktemp("embedded")
    with api_server(data_dir, {"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


@pytest.fixture
def user(embedded: RunningProcess) -> ApiClient:
    return ApiClient(embedded.url).sign_up()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scan(seed: int = 1, words: int = 60) -> tuple[bytes, str]:
    """A clean scanned page as PNG, and the text on it."""
    page, text = draw_page(sentences(seed, words), size=(1240, 900))
    return png_bytes(page), text


def photo(seed: int = 2) -> tuple[bytes, str]:
    """A page as a phone might see it: turned 3 degrees, blurred, JPEG."""
    page, text = draw_page(sentences(seed, 50), size=(1240, 900))
    turned = page.rotate(3, expand=True, fillcolor=235).filter(
        ImageFilter.GaussianBlur(0.8)
    )
    buffer = io.BytesIO()
    turned.convert("RGB").save(buffer, format="JPEG", quality=70)
    return buffer.getvalue(), text


def scanned_pdf(tmp_path: Path, pages: int = 2) -> tuple[bytes, list[str]]:
    from ocr.documents import image_pdf

    drawn = [draw_page(sentences(10 + n, 40), size=(1240, 900)) for n in range(pages)]
    path = image_pdf([page for page, _ in drawn], tmp_path / "scan.pdf")
    return path.read_bytes(), [text for _, text in drawn]


def words_found(expected: str, got: str) -> float:
    """Share of the expected words that the reading contains."""
    wanted = [w.strip(".,;?").lower() for w in expected.split()]
    have = {w.strip(".,;?").lower() for w in got.split()}
    return sum(w in have for w in wanted) / len(wanted)
