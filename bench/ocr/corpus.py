"""The bench corpus: generated pages, damaged in known ways, with their text.

Every page is drawn from known text (``tests/ocr/documents.py``), then
skewed, soiled, blurred, faded, compressed or turned the way scans and
phone photos are. Each document also keeps its pages as image files for
plain ``tesseract``, which reads no PDF: PDF pages are rendered for it
at 300 dpi beforehand, outside the timing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

from tests.ocr.documents import draw_page, image_pdf, sentences, text_pdf, wrap

A4_300DPI = (2480, 3508)
A4_150DPI = (1240, 1754)

Damage = Callable[[Image.Image, random.Random], Image.Image]


@dataclass(frozen=True)
class Document:
    """One file of the corpus and what it says, page by page."""

    category: str
    path: Path
    media_type: str
    truth: list[str]
    page_images: list[Path]  # the same pages as files, for plain tesseract


def _skew(page: Image.Image, rng: random.Random) -> Image.Image:
    return _turn(page, rng.choice([-1, 1]) * rng.uniform(2, 7))


def _turn(page: Image.Image, degrees: float) -> Image.Image:
    bicubic = Image.Resampling.BICUBIC
    return page.rotate(degrees, resample=bicubic, expand=True, fillcolor=255)


def _soil(
    page: Image.Image, rng: random.Random, sigma: float, specks: float
) -> Image.Image:
    """Gaussian grain of ``sigma`` and a share ``specks`` of black and white dots."""
    noise = np.random.default_rng(rng.randrange(2**32))
    pixels = np.asarray(page, dtype=np.float32)
    pixels = pixels + noise.normal(0.0, sigma, pixels.shape)
    dots = noise.random(pixels.shape)
    pixels[dots < specks / 2] = 0
    pixels[dots > 1 - specks / 2] = 255
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _noisy(page: Image.Image, rng: random.Random) -> Image.Image:
    return _soil(page, rng, rng.uniform(35, 50), rng.uniform(0.01, 0.03))


def _blurred(page: Image.Image, rng: random.Random) -> Image.Image:
    return page.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 2.5)))


def _faded(page: Image.Image, rng: random.Random) -> Image.Image:
    """Ink and paper brought close, under light falling off to one side."""
    ink, paper = rng.randint(120, 150), rng.randint(190, 215)
    shadow = rng.uniform(0.2, 0.4)
    pixels = np.asarray(page, dtype=np.float32) / 255.0
    pixels = ink + (paper - ink) * pixels
    height, width = pixels.shape
    across = np.linspace(1.0, 1.0 - shadow, width, dtype=np.float32)
    down = np.linspace(1.0 - shadow / 2, 1.0, height, dtype=np.float32)
    pixels *= down[:, None] * across[None, :]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _scanned(page: Image.Image, rng: random.Random) -> Image.Image:
    """A page through a flatbed: a little crooked, a little grain."""
    return _soil(_turn(page, rng.uniform(-2.5, 2.5)), rng, 12, 0.002)


def _as_is(page: Image.Image, rng: random.Random) -> Image.Image:
    return page


def _upside_down(page: Image.Image, rng: random.Random) -> Image.Image:
    return page.rotate(180)


@dataclass(frozen=True)
class Category:
    """How the pages of one category are drawn, damaged and saved."""

    name: str
    damage: Damage
    size: tuple[int, int] = A4_300DPI
    font_px: tuple[int, int] = (34, 46)
    jpeg_quality: tuple[int, int] | None = None


IMAGE_CATEGORIES = [
    Category("clean", _as_is),
    Category("skewed", _skew),
    Category("noisy", _noisy),
    Category("blurred", _blurred),
    Category("low_contrast", _faded),
    Category("jpeg", _as_is, jpeg_quality=(8, 15)),
    Category("low_resolution", _as_is, size=A4_150DPI, font_px=(15, 18)),
    Category("upside_down", _upside_down),
]


def build(folder: Path, pages_per_category: int = 4, seed: int = 7) -> list[Document]:
    """Write the corpus into ``folder`` and describe it."""
    rng = random.Random(seed)
    documents = []
    for category in IMAGE_CATEGORIES:
        for number in range(1, pages_per_category + 1):
            name = f"{category.name}-{number}"
            documents.append(_image(category, folder / name, rng))

    scans, truths = [], []
    for _ in range(pages_per_category):
        page, truth = _page(rng, A4_300DPI, (34, 46))
        scans.append(_scanned(page, rng))
        truths.append(truth)
    path = image_pdf(scans, folder / "scanned.pdf", dpi=300)
    documents.append(_pdf("scanned_pdf", path, truths))

    # Letter-size pages of 12 pt Helvetica: 80 characters a line, 40 lines.
    texts = [sentences(rng.randrange(10**6), 400) for _ in range(pages_per_category)]
    pages = [wrap(text, 80)[:40] for text in texts]
    path = folder / "digital.pdf"
    path.write_bytes(text_pdf(pages))
    documents.append(_pdf("text_pdf", path, ["\n".join(lines) for lines in pages]))
    return documents


def _page(
    rng: random.Random, size: tuple[int, int], font_px: tuple[int, int]
) -> tuple[Image.Image, str]:
    text = sentences(rng.randrange(10**6), 600)
    return draw_page(
        text, size=size, font_px=rng.randint(*font_px), margin=size[0] // 12
    )


def _image(category: Category, stem: Path, rng: random.Random) -> Document:
    page, truth = _page(rng, category.size, category.font_px)
    page = category.damage(page, rng)
    if category.jpeg_quality is None:
        path = stem.with_suffix(".png")
        page.save(path, "PNG", compress_level=1)
        media_type = "image/png"
    else:
        path = stem.with_suffix(".jpg")
        page.save(path, "JPEG", quality=rng.randint(*category.jpeg_quality))
        media_type = "image/jpeg"
    return Document(category.name, path, media_type, [truth], [path])


def _pdf(category: str, path: Path, truth: list[str]) -> Document:
    document = pdfium.PdfDocument(path)
    images = []
    try:
        for index in range(len(document)):
            page = document[index]
            image = path.with_name(f"{path.stem}-p{index + 1}.png")
            page.render(scale=300 / 72, grayscale=True).to_pil().save(
                image, compress_level=1
            )
            page.close()
            images.append(image)
    finally:
        document.close()
    return Document(category, path, "application/pdf", truth, images)
