"""Fuzzing the upload type detection with damaged real files.

``sniff_media_type``, ``declared_size`` and ``tiff_page_sizes`` promise
never to raise: whatever the bytes, they answer a type or None, a size or
None. A size they do give must be one a decoder could honour.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.samples import examples, files, valid_samples
from tasks_api.domain.media import (
    SNIFF_BYTES,
    MediaType,
    declared_size,
    sniff_media_type,
    tiff_page_sizes,
)

# Each of these runs in microseconds; the deadline only stops a parser
# that loops on some input.
FAST = settings(max_examples=examples(400), deadline=2000)

EXPECTED_TYPES = {
    "png": MediaType.PNG,
    "jpeg": MediaType.JPEG,
    "tiff": MediaType.TIFF,
    "bmp": MediaType.BMP,
    "webp": MediaType.WEBP,
    "text_pdf": MediaType.PDF,
    "scanned_pdf": MediaType.PDF,
    "locked_pdf": MediaType.PDF,
    "text": MediaType.TEXT,
}
IMAGES = ("png", "jpeg", "tiff", "bmp", "webp")


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_every_undamaged_sample_is_sniffed_as_its_type(name: str) -> None:
    data = valid_samples()[name]

    assert sniff_media_type(data[:SNIFF_BYTES]) is EXPECTED_TYPES[name]


@pytest.mark.parametrize("name", IMAGES)
def test_every_undamaged_image_declares_its_real_size(name: str) -> None:
    data = valid_samples()[name]

    assert declared_size(data) == (24, 16)


@FAST
@given(files())
def test_sniffing_any_file_gives_a_type_or_none(data: bytes) -> None:
    media_type = sniff_media_type(data[:SNIFF_BYTES])

    assert media_type is None or isinstance(media_type, MediaType)


@FAST
@given(files())
def test_a_declared_size_is_positive_and_only_for_images(data: bytes) -> None:
    size = declared_size(data)

    if size is not None:
        width, height = size
        assert isinstance(width, int) and isinstance(height, int)
        assert width > 0 and height > 0
        media_type = sniff_media_type(data[:SNIFF_BYTES])
        assert media_type is not None and media_type.is_image


@FAST
@given(files(("tiff",)), st.integers(min_value=1, max_value=4))
def test_tiff_page_sizes_stop_one_past_the_limit(data: bytes, max_pages: int) -> None:
    sizes = tiff_page_sizes(data, max_pages)

    if sizes is not None:
        assert len(sizes) <= max_pages + 1
        assert all(isinstance(w, int) and isinstance(h, int) for w, h in sizes)
        assert all(w >= 0 and h >= 0 for w, h in sizes)
