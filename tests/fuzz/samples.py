"""Small valid files of every type we read, and ways to damage them.

The fuzz tests start from real encoder output (Pillow's PNG, JPEG, TIFF,
BMP and WEBP, hand-written PDFs) rather than random bytes alone: a file
that is nearly right reaches the header parsers, the PDF reader and the
image decoders, where random bytes stop at the first magic number.

The tests are sized to run in seconds; ``FUZZ_SCALE=50 pytest tests/fuzz``
runs fifty times as many examples of each.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
from pathlib import Path

from hypothesis import strategies as st
from ocr.documents import image_pdf, text_pdf
from PIL import Image, ImageDraw

# Values that header fields tend to break on: zero, one, the sign bit,
# all ones, and sizes just past what a 16- or 32-bit field can say.
_INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
_INTERESTING_WORDS = (
    b"\x00\x00",
    b"\xff\xff",
    b"\x7f\xff",
    b"\x80\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x7f\xff\xff\xff",
    b"\x80\x00\x00\x00",
    b"\x00\x01\x00\x00",
)
# Numbers a PDF's text may be given instead of its own: page sizes,
# counts, lengths and offsets that are empty, negative, huge or not finite.
_INTERESTING_NUMBERS = (
    b"0",
    b"-1",
    b"-0",
    b"0.0001",
    b"2147483648",
    b"99999999999999999999",
    b"1e308",
    b"nan",
    b"14400",
)
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
# Where a format keeps its width, height, page count and offsets.
_HEADER_BYTES = 96


def examples(default: int) -> int:
    """``default`` times FUZZ_SCALE (1 unless set), for deeper runs on demand."""
    return default * int(os.environ.get("FUZZ_SCALE", "1"))


def _page(size: tuple[int, int] = (24, 16), shade: int = 0) -> Image.Image:
    page = Image.new("L", size, 255)
    ImageDraw.Draw(page).rectangle((3, 3, size[0] - 4, size[1] - 4), fill=shade)
    return page


def _encoded(image: Image.Image, format_name: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format_name, **options)
    return buffer.getvalue()


@functools.cache
def valid_samples() -> dict[str, bytes]:
    """One small, valid file of each kind the service reads, by name."""
    first, second = _page(), _page(shade=90)
    with tempfile.TemporaryDirectory() as folder:
        scanned = image_pdf([first, second], Path(folder) / "scan.pdf", dpi=72)
        scanned_bytes = scanned.read_bytes()
    lines = ["Invoice number 4411 is due on Friday.", "Thank you for the order."]
    return {
        "png": _encoded(first, "PNG"),
        "jpeg": _encoded(first.convert("RGB"), "JPEG", quality=80),
        "tiff": _encoded(first, "TIFF", save_all=True, append_images=[second]),
        "bmp": _encoded(first, "BMP"),
        "webp": _encoded(first.convert("RGB"), "WEBP", quality=80),
        "text_pdf": text_pdf([lines, lines[::-1]]),
        "scanned_pdf": scanned_bytes,
        "locked_pdf": text_pdf([lines], encrypt=True),
        "text": "\n".join(lines).encode(),
    }


@st.composite
def _edit(draw: st.DrawFn, data: bytearray) -> None:
    """Apply one random edit to ``data`` in place, mostly near its header."""
    end = max(len(data) - 1, 0)
    # Past the magic number, mostly: a file that is no longer a PNG only
    # tests the sniffer again.
    at = draw(
        st.one_of(
            st.integers(min(8, end), min(_HEADER_BYTES, end)),
            st.integers(0, end),
        )
    )
    kind = draw(
        st.sampled_from(
            [
                "flip",
                "byte",
                "word",
                "number",
                "insert",
                "delete",
                "truncate",
                "repeat",
            ]
        )
    )
    if kind == "flip" and data:
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif kind == "byte" and data:
        data[at] = draw(st.sampled_from(_INTERESTING_BYTES))
    elif kind == "word":
        word = draw(st.sampled_from(_INTERESTING_WORDS))
        data[at : at + len(word)] = word
    elif kind == "number":
        numbers = list(_NUMBER.finditer(data))
        if numbers:
            found = draw(st.sampled_from(numbers))
            data[found.start() : found.end()] = draw(
                st.sampled_from(_INTERESTING_NUMBERS)
            )
    elif kind == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=32))
    elif kind == "delete":
        del data[at : at + draw(st.integers(1, 64))]
    elif kind == "truncate":
        del data[at:]
    elif kind == "repeat":
        data[at:at] = data[at : at + draw(st.integers(1, 256))]


@st.composite
def damaged(draw: st.DrawFn, kinds: tuple[str, ...] | None = None) -> bytes:
    """A valid sample (of one of ``kinds``, or any) after one to four edits."""
    samples = valid_samples()
    name = draw(st.sampled_from(sorted(kinds or samples)))
    data = bytearray(samples[name])
    for _ in range(draw(st.integers(1, 4))):
        draw(_edit(data))
    return bytes(data)


def files(kinds: tuple[str, ...] | None = None) -> st.SearchStrategy[bytes]:
    """Mostly damaged samples; some untouched ones and some random bytes."""
    samples = valid_samples()
    names = sorted(kinds or samples)
    return st.one_of(
        damaged(kinds),
        damaged(kinds),
        damaged(kinds),
        st.sampled_from([samples[name] for name in names]),
        st.binary(max_size=2048),
    )
