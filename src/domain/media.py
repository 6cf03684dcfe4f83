"""The kinds of file the service reads, told apart by their first bytes.

A client's file name and declared content type are hints at best, so the
type of an upload is decided here from its bytes alone. ``declared_size``
reads an image's width and height from its header without decoding a
pixel, so that an image declaring billions of pixels is refused before
any decoder allocates them.
"""

from __future__ import annotations

import enum
import struct

# How many leading bytes are enough to sniff any of the types below.
SNIFF_BYTES = 4096


class MediaType(enum.StrEnum):
    """A media type the service accepts, by its MIME name."""

    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    BMP = "image/bmp"
    WEBP = "image/webp"
    PDF = "application/pdf"
    TEXT = "text/plain"

    @property
    def is_image(self) -> bool:
        return self not in (MediaType.PDF, MediaType.TEXT)


_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
# The sizes a BMP's DIB header can have (core, info and its later versions).
_BMP_DIB_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_MARKUP_ANYWHERE = (b"<html", b"<script", b"<body", b"<iframe", b"<svg")
_MIN_PRINTABLE_SHARE = 0.95


def sniff_media_type(head: bytes) -> MediaType | None:
    """The media type of a file from its first bytes, or None.

    ``head`` is the start of the file; ``SNIFF_BYTES`` of it are plenty.
    None means the file is of no type we read: empty, HTML, a format we
    do not support, or binary junk. Never raises.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith(_TIFF_MAGICS):
        return MediaType.TIFF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head.startswith(b"%PDF-"):
        return MediaType.PDF
    if _looks_like_bmp(head):
        return MediaType.BMP
    if _looks_like_text(head):
        return MediaType.TEXT
    return None


def _looks_like_bmp(head: bytes) -> bool:
    # "BM" alone is two letters any text may start with; the reserved
    # fields must be zero and the DIB header must have a known size.
    if not head.startswith(b"BM") or len(head) < 18:
        return False
    reserved = head[6:10]
    (dib_size,) = struct.unpack_from("<I", head, 14)
    return reserved == b"\x00\x00\x00\x00" and dib_size in _BMP_DIB_SIZES


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False

    text = _decode_utf8_prefix(head)
    if text is None:
        return False

    if _opens_a_tag(text) or any(m in head.lower() for m in _MARKUP_ANYWHERE):
        return False

    printable = sum(1 for c in text if c.isprintable() or c.isspace())
    return printable >= _MIN_PRINTABLE_SHARE * len(text)


def _opens_a_tag(text: str) -> bool:
    """Whether the first non-blank characters start markup (``<p``, ``<!``)."""
    start = text.lstrip("\ufeff \t\r\n\f\v")[:2]
    return (
        len(start) == 2
        and start[0] == "<"
        and (start[1].isalpha() or start[1] in "!?/")
    )


def _decode_utf8_prefix(head: bytes) -> str | None:
    """``head`` as UTF-8, forgiving one character cut off at the end."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multibyte character is at most 4 bytes long, so a cut one
        # leaves at most 3 bytes that fail only for running out.
        cut_short = error.reason == "unexpected end of data"
        if not cut_short or error.start < len(head) - 3:
            return None
        return head[: error.start].decode("utf-8")


def declared_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) an image's header declares, or None.

    Reads PNG, JPEG, BMP, WEBP and the first page of a TIFF. None means
    the size is not in ``data`` (not an image we know, a truncated or
    damaged header, a TIFF whose first page lies beyond ``data``). Pass
    the whole file for TIFF and JPEG, whose headers can sit far in.
    Never raises.
    """
    readers = {
        MediaType.PNG: _png_size,
        MediaType.JPEG: _jpeg_size,
        MediaType.BMP: _bmp_size,
        MediaType.WEBP: _webp_size,
        MediaType.TIFF: _tiff_first_size,
    }
    media_type = sniff_media_type(data[:SNIFF_BYTES])
    reader = readers.get(media_type) if media_type else None
    if reader is None:
        return None
    try:
        size = reader(data)
    except (struct.error, IndexError, ValueError):
        return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def tiff_page_sizes(data: bytes, max_pages: int) -> list[tuple[int, int]] | None:
    """The (width, height) of every page of a TIFF, in page order, or None.

    Follows the chain of image directories without decoding pages. Stops
    after ``max_pages + 1`` pages, enough to tell that a file has too many.
    None means ``data`` is not a TIFF or a directory is damaged or missing
    its size; a loop in the chain counts as damage. Never raises.
    """
    try:
        return _tiff_sizes(data, max_pages + 1)
    except (struct.error, IndexError, ValueError):
        return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


# Start-of-frame markers carry the frame's size; C4, C8 and CC share the
# range but mean something else.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _JPEG_STANDALONE:
            at += 2
            continue
        (length,) = struct.unpack_from(">H", data, at + 2)
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, at + 5)
            return width, height
        if marker == 0xDA:  # scan data begins and no frame was declared
            return None
        at += 2 + length
    return None


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    (dib_size,) = struct.unpack_from("<I", data, 14)
    if dib_size == 12:
        width, height = struct.unpack_from("<HH", data, 18)
        return width, height
    width, height = struct.unpack_from("<ii", data, 18)
    # A negative height means rows are stored top-down.
    return width, abs(height)


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        if len(data) < 30:
            return None
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _tiff_first_size(data: bytes) -> tuple[int, int] | None:
    sizes = _tiff_sizes(data, 1)
    return sizes[0] if sizes else None


# TIFF field types whose values are unsigned integers, by byte width.
_TIFF_UINT = {3: "H", 4: "I", 16: "Q"}
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257
# By BigTIFF or not: the formats of an entry count and of an offset, the
# size of an entry, where its value sits, and where the first offset is.
_TIFF_LAYOUT = {False: ("H", "I", 12, 8, 4), True: ("Q", "Q", 20, 12, 8)}


def _tiff_sizes(data: bytes, limit: int) -> list[tuple[int, int]] | None:
    if data[:4] not in _TIFF_MAGICS:
        return None
    order = "<" if data[:2] == b"II" else ">"
    is_big = data[2:4] in (b"+\x00", b"\x00+")
    count_fmt, offset_fmt, entry_size, value_at, first_at = _TIFF_LAYOUT[is_big]
    count_fmt, offset_fmt = order + count_fmt, order + offset_fmt
    (offset,) = struct.unpack_from(offset_fmt, data, first_at)

    sizes: list[tuple[int, int]] = []
    seen: set[int] = set()
    while offset and len(sizes) < limit:
        if offset in seen:
            return None
        seen.add(offset)
        (count,) = struct.unpack_from(count_fmt, data, offset)
        entries = offset + struct.calcsize(count_fmt)
        fields: dict[int, int] = {}
        at_end = entries + count * entry_size
        for at in range(entries, at_end, entry_size):
            tag, kind = struct.unpack_from(order + "HH", data, at)
            if tag in (_TIFF_WIDTH, _TIFF_HEIGHT) and kind in _TIFF_UINT:
                value_fmt = order + _TIFF_UINT[kind]
                (fields[tag],) = struct.unpack_from(value_fmt, data, at + value_at)
        if _TIFF_WIDTH not in fields or _TIFF_HEIGHT not in fields:
            return None
        sizes.append((fields[_TIFF_WIDTH], fields[_TIFF_HEIGHT]))
        (offset,) = struct.unpack_from(offset_fmt, data, at_end)
    return sizes
