"""Media types from first bytes, and image sizes from headers."""

import struct
import zlib

from hypothesis import given
from hypothesis import strategies as st

from tasks_api.domain.media import (
    MediaType,
    declared_size,
    sniff_media_type,
    tiff_page_sizes,
)

sizes = st.integers(min_value=1, max_value=16383)
tails = st.binary(max_size=64)


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + crc


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1)
    return b"\xff\xd8" + app0 + sof + b"\x01\x11\x00"


def bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHH", 40, width, -height, 1, 8) + bytes(24)
    return b"BM" + struct.pack("<IHHI", 54 + width * height, 0, 0, 54) + info


def webp_vp8x_header(width: int, height: int) -> bytes:
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", 10) + bytes(4) + canvas
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8l_header(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    chunk = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8_header(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    chunk = b"VP8 " + struct.pack("<I", len(frame)) + frame
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def tiff_file(pages: list[tuple[int, int]], big_endian: bool = False) -> bytes:
    """A TIFF whose directories give each page's size and nothing more."""
    order = ">" if big_endian else "<"
    data = bytearray((b"MM\x00*" if big_endian else b"II*\x00") + bytes(4))
    link_at = 4
    for width, height in pages:
        struct.pack_into(order + "I", data, link_at, len(data))
        data += struct.pack(order + "H", 2)
        data += struct.pack(order + "HHII", 256, 4, 1, width)
        data += struct.pack(order + "HHIHH", 257, 3, 1, height, 0)
        link_at = len(data)
        data += bytes(4)
    return bytes(data)


MAKERS = {
    MediaType.PNG: png_header,
    MediaType.JPEG: jpeg_header,
    MediaType.BMP: bmp_header,
    MediaType.WEBP: webp_vp8x_header,
}


@given(st.binary(max_size=2048))
def test_sniffing_never_raises_on_any_bytes(head):
    result = sniff_media_type(head)

    assert result is None or isinstance(result, MediaType)


@given(st.binary(max_size=2048))
def test_reading_a_declared_size_never_raises_on_any_bytes(data):
    size = declared_size(data)

    assert size is None or (size[0] > 0 and size[1] > 0)


@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00"]), tails)
def test_reading_sizes_after_a_real_magic_never_raises(magic, tail):
    size = declared_size(magic + tail)
    pages = tiff_page_sizes(magic + tail, max_pages=5)

    assert size is None or min(size) > 0
    assert pages is None or isinstance(pages, list)


@given(st.sampled_from(sorted(MAKERS)), sizes, sizes, tails)
def test_an_image_header_gives_its_type_and_size(media_type, width, height, tail):
    data = MAKERS[media_type](width, height) + tail

    assert sniff_media_type(data) is media_type
    assert declared_size(data) == (width, height)


@given(sizes, sizes)
def test_every_webp_flavour_gives_its_size(width, height):
    vp8_width, vp8_height = min(width, 16383), min(height, 16383)

    assert declared_size(webp_vp8x_header(width, height)) == (width, height)
    assert declared_size(webp_vp8l_header(width, height)) == (width, height)
    assert declared_size(webp_vp8_header(vp8_width, vp8_height)) == (
        vp8_width,
        vp8_height,
    )


@given(st.lists(st.tuples(sizes, sizes), min_size=1, max_size=6), st.booleans())
def test_a_tiff_gives_every_page_size_in_order(pages, big_endian):
    data = tiff_file(pages, big_endian)

    assert sniff_media_type(data) is MediaType.TIFF
    assert tiff_page_sizes(data, max_pages=10) == pages
    assert declared_size(data) == pages[0]


def test_counting_tiff_pages_stops_one_past_the_limit():
    data = tiff_file([(10, 10)] * 8)

    assert len(tiff_page_sizes(data, max_pages=3) or []) == 4


def test_a_tiff_whose_pages_loop_is_damaged():
    data = bytearray(tiff_file([(10, 10), (20, 20)]))
    struct.pack_into("<I", data, len(data) - 4, 8)  # last page points to first

    assert tiff_page_sizes(bytes(data), max_pages=10) is None


@given(st.binary(max_size=200))
def test_pdf_magic_is_recognized(tail):
    assert sniff_media_type(b"%PDF-1.7\n" + tail) is MediaType.PDF


@given(st.text(min_size=1, max_size=500).filter(lambda t: t.strip() != ""))
def test_markup_is_never_taken_for_text(body):
    html = f"<!DOCTYPE html>\n<html><body>{body}</body></html>".encode()

    assert sniff_media_type(html) is None


@given(st.text(max_size=200))
def test_html_named_png_is_not_an_image(body):
    # A name says nothing: only the bytes count, and these are HTML.
    upload = {"filename": "scan.png", "content": f"<html>{body}".encode()}

    media_type = sniff_media_type(upload["content"])

    assert media_type is None or not media_type.is_image


printable = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="<")


@given(st.text(alphabet=printable, min_size=2, max_size=300))
def test_printable_utf8_is_text_even_when_cut_mid_character(text):
    data = text.encode()

    assert sniff_media_type(data) is MediaType.TEXT
    assert sniff_media_type(data[:-1]) is MediaType.TEXT


def test_utf8_cut_inside_its_last_character_is_still_text():
    data = "Grüße aus Köln, ça va? Ωμέγα".encode()

    assert sniff_media_type(data[:-1]) is MediaType.TEXT


def test_text_with_a_nul_byte_is_not_text():
    assert sniff_media_type(b"hello\x00world") is None


def test_invalid_utf8_in_the_middle_is_not_text():
    assert sniff_media_type(b"caf\xe9 au lait, s'il vous pla\xeet") is None


def test_control_characters_are_not_text():
    assert sniff_media_type(bytes(range(1, 32)) * 4) is None


def test_empty_file_has_no_type():
    assert sniff_media_type(b"") is None


def test_text_starting_with_bm_is_text_not_a_bitmap():
    assert sniff_media_type(b"BMW built a car in 1928, the Dixi.") is MediaType.TEXT


def test_gif_is_not_accepted():
    assert sniff_media_type(b"GIF89a\x01\x00\x01\x00\x00\x00\x00") is None


def test_a_truncated_png_header_has_no_size():
    assert declared_size(png_header(100, 200)[:20]) is None
