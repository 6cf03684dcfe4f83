"""TesseractReader on the real Tesseract, with pages drawn from known text."""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tasks_api.adapters.ocr.tesseract import TesseractReader
from tasks_api.domain.errors import JobCancelled, UnreadableDocument
from tasks_api.ports.ocr import PageText

from .documents import draw_page, image_pdf, multipage_tiff, text_pdf
from .helpers import never, small_page, tesseract_children, words_found


def read_all(reader: TesseractReader, path: Path, media_type: str) -> list[PageText]:
    return list(reader.read(path, media_type, "eng", never))


def unreadable_code(reader: TesseractReader, path: Path, media_type: str) -> str:
    with pytest.raises(UnreadableDocument) as caught:
        read_all(reader, path, media_type)
    return caught.value.code


def test_a_clean_page_reads_its_words(reader, tmp_path):
    page, truth = small_page(seed=1)
    page.save(tmp_path / "page.png")

    pages = read_all(reader, tmp_path / "page.png", "image/png")

    assert [(p.number, p.total) for p in pages] == [(1, 1)]
    assert words_found(truth, pages[0].text) >= 0.95


def test_a_page_skewed_by_five_degrees_reads_its_words(reader, tmp_path):
    page, truth = small_page(seed=2)
    skewed = page.rotate(
        5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    skewed.save(tmp_path / "skewed.png")

    (read,) = read_all(reader, tmp_path / "skewed.png", "image/png")

    assert words_found(truth, read.text) >= 0.95


def test_a_page_turned_upside_down_reads_its_words(reader, tmp_path):
    page, truth = small_page(seed=3)
    page.rotate(180).save(tmp_path / "turned.jpg", quality=90)

    (read,) = read_all(reader, tmp_path / "turned.jpg", "image/jpeg")

    assert words_found(truth, read.text) >= 0.95


def test_light_letters_on_a_dark_page_are_read(reader, tmp_path):
    page, truth = small_page(seed=15)
    ImageOps.invert(page).save(tmp_path / "negative.png")

    (read,) = read_all(reader, tmp_path / "negative.png", "image/png")

    assert words_found(truth, read.text) >= 0.95


def test_a_page_turned_sideways_is_stood_up_and_read(reader, tmp_path):
    page, truth = small_page(seed=4)
    page.rotate(90, expand=True).save(tmp_path / "sideways.png")

    (read,) = read_all(reader, tmp_path / "sideways.png", "image/png")

    assert words_found(truth, read.text) >= 0.95


def test_a_pdf_with_a_text_layer_is_read_without_ocr(tmp_path):
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "tesseract-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec tesseract "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    reader = TesseractReader(workers=2, tesseract_cmd=str(wrapper))
    lines = [
        ["Quarterly report (draft)", "Revenue grew by 12 percent."],
        ["Second page: costs fell, margins rose."],
    ]
    (tmp_path / "digital.pdf").write_bytes(text_pdf(lines))

    pages = read_all(reader, tmp_path / "digital.pdf", "application/pdf")

    assert [p.text.split("\n") for p in pages] == lines
    assert [(p.number, p.total) for p in pages] == [(1, 2), (2, 2)]
    assert calls.read_text().split() == ["--list-langs"]


def test_a_short_text_layer_page_is_ocred(reader, tmp_path):
    # Too few letters to trust as a text layer: the page is drawn instead,
    # and Helvetica text renders and reads back the same.
    (tmp_path / "short.pdf").write_bytes(text_pdf([["Invoice 7"]]))

    (read,) = read_all(reader, tmp_path / "short.pdf", "application/pdf")

    assert "Invoice" in read.text


def test_a_scanned_pdf_is_ocred_page_by_page(reader, tmp_path):
    first, first_truth = small_page(seed=5)
    second, second_truth = small_page(seed=6)
    image_pdf([first, second], tmp_path / "scan.pdf", dpi=200)

    pages = read_all(reader, tmp_path / "scan.pdf", "application/pdf")

    assert [(p.number, p.total) for p in pages] == [(1, 2), (2, 2)]
    assert words_found(first_truth, pages[0].text) >= 0.95
    assert words_found(second_truth, pages[1].text) >= 0.95


def test_a_multipage_tiff_reads_every_page_in_order(reader, tmp_path):
    drawn = [small_page(seed) for seed in (7, 8, 9)]
    multipage_tiff([page for page, _ in drawn], tmp_path / "fax.tif")

    pages = read_all(reader, tmp_path / "fax.tif", "image/tiff")

    assert [p.number for p in pages] == [1, 2, 3]
    for page, (_, truth) in zip(pages, drawn, strict=True):
        assert words_found(truth, page.text) >= 0.95


def test_plain_text_is_one_page_of_its_own_text(reader, tmp_path):
    (tmp_path / "notes.txt").write_text("Grüße,\nthe minutes are attached.\n")

    pages = read_all(reader, tmp_path / "notes.txt", "text/plain")

    assert pages == [PageText(1, 1, "Grüße,\nthe minutes are attached.\n")]


def test_the_bytes_decide_the_type_not_the_declared_one(reader, tmp_path):
    page, truth = small_page(seed=10)
    page.save(tmp_path / "upload", format="PNG")

    (read,) = read_all(reader, tmp_path / "upload", "application/pdf")

    assert words_found(truth, read.text) >= 0.95


def test_cancelling_kills_the_running_tesseract(reader, tmp_path):
    page, _ = small_page(seed=11, words=120)
    page.save(tmp_path / "page.png")
    seen: list[int] = []

    def cancelled_once_tesseract_runs() -> bool:
        seen.extend(tesseract_children())
        return bool(seen)

    with pytest.raises(JobCancelled):
        list(
            reader.read(
                tmp_path / "page.png", "image/png", "eng", cancelled_once_tesseract_runs
            )
        )

    assert seen, "tesseract never ran, so nothing was cancelled mid-page"
    assert tesseract_children() == []
    assert not any(os.path.exists(f"/proc/{pid}") for pid in seen)


def test_cancelling_between_pages_stops_before_the_next_one(reader, tmp_path):
    (tmp_path / "doc.pdf").write_bytes(
        text_pdf([["The first page says enough words to count."]] * 3)
    )
    got: list[PageText] = []
    pages = reader.read(
        tmp_path / "doc.pdf", "application/pdf", "eng", lambda: bool(got)
    )

    with pytest.raises(JobCancelled):
        for page in pages:
            got.append(page)

    assert [p.number for p in got] == [1]


def test_a_page_over_its_time_limit_is_unreadable(tmp_path):
    reader = TesseractReader(workers=1, page_timeout_seconds=0.2)
    page, _ = small_page(seed=12, words=120)
    page.save(tmp_path / "slow.png")

    code = unreadable_code(reader, tmp_path / "slow.png", "image/png")

    assert code == "page_timeout"
    assert tesseract_children() == []


def test_an_image_over_the_pixel_limit_is_refused(tmp_path):
    reader = TesseractReader(workers=1, max_pixels=100_000)
    Image.new("L", (400, 300), 255).save(tmp_path / "big.png")

    assert (
        unreadable_code(reader, tmp_path / "big.png", "image/png") == "too_many_pixels"
    )


def test_a_png_declaring_a_billion_pixels_is_refused_before_decoding(reader, tmp_path):
    ihdr = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )
    (tmp_path / "bomb.png").write_bytes(bomb)

    assert (
        unreadable_code(reader, tmp_path / "bomb.png", "image/png") == "too_many_pixels"
    )


def test_a_pdf_with_too_many_pages_is_refused(tmp_path):
    reader = TesseractReader(workers=1, max_pages=2)
    (tmp_path / "long.pdf").write_bytes(text_pdf([["page"]] * 3))

    code = unreadable_code(reader, tmp_path / "long.pdf", "application/pdf")

    assert code == "too_many_pages"


def test_a_tiff_with_too_many_pages_is_refused(tmp_path):
    reader = TesseractReader(workers=1, max_pages=2)
    pages = [Image.new("L", (50, 50), 255) for _ in range(3)]
    multipage_tiff(pages, tmp_path / "long.tif")

    assert (
        unreadable_code(reader, tmp_path / "long.tif", "image/tiff") == "too_many_pages"
    )


def test_an_encrypted_pdf_is_refused(reader, tmp_path):
    (tmp_path / "locked.pdf").write_bytes(text_pdf([["secret"]], encrypt=True))

    code = unreadable_code(reader, tmp_path / "locked.pdf", "application/pdf")

    assert code == "encrypted_pdf"


def test_a_truncated_pdf_is_refused(reader, tmp_path):
    data = text_pdf([["This document ends too soon to be opened."]])
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 3])

    assert (
        unreadable_code(reader, tmp_path / "cut.pdf", "application/pdf")
        == "corrupt_pdf"
    )


def test_a_truncated_png_is_refused(reader, tmp_path):
    page, _ = small_page(seed=13)
    page.save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])

    assert unreadable_code(reader, tmp_path / "cut.png", "image/png") == "corrupt_image"


@pytest.mark.parametrize("keep", [0.5, 0.001])
def test_a_corrupt_tiff_is_refused(reader, tmp_path, keep):
    page, _ = small_page(seed=14)
    multipage_tiff([page, page], tmp_path / "whole.tif")
    data = (tmp_path / "whole.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: max(8, int(len(data) * keep))])

    assert (
        unreadable_code(reader, tmp_path / "cut.tif", "image/tiff") == "corrupt_image"
    )


def test_html_is_not_read(reader, tmp_path):
    (tmp_path / "page.png").write_text("<!doctype html><html><body>hi</body></html>")

    code = unreadable_code(reader, tmp_path / "page.png", "image/png")

    assert code == "unsupported_media"


def test_a_language_that_is_not_installed_is_refused(reader, tmp_path):
    (tmp_path / "notes.txt").write_text("Bonjour")

    with pytest.raises(UnreadableDocument) as caught:
        list(reader.read(tmp_path / "notes.txt", "text/plain", "eng+xyz", never))

    assert caught.value.code == "unsupported_language"


def test_languages_are_the_installed_ones_that_read_text(reader):
    languages = reader.languages()

    assert "eng" in languages
    assert "osd" not in languages


def test_a_page_wrongly_turned_over_is_stood_back_up(reader, tmp_path):
    # Words with tails but no ascenders or capitals: upright, they look
    # upside down to the clean-up's quick check. Tesseract's orientation
    # detection, asked because the reading was unsure, turns them back.
    words = "gypsy guppy prawn soup nose grey pepper jug crown ocean sponge syrup"
    text = " ".join(words.split() * 5)
    page, truth = draw_page(text, size=(1100, 560), font_px=30, margin=60)
    page.save(tmp_path / "tails.png")

    (read,) = read_all(reader, tmp_path / "tails.png", "image/png")

    assert words_found(truth, read.text) >= 0.95
