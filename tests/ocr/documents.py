"""Documents to read: pages drawn with Pillow, PDFs written by hand.

Shared by the OCR tests and ``bench/ocr``. Every page is drawn from a
known text, so what a reader returns can be checked against it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

_WORDS = [
    "invoice",
    "account",
    "balance",
    "due",
    "payment",
    "received",
    "thank",
    "you",
    "order",
    "number",
    "customer",
    "address",
    "street",
    "city",
    "total",
    "amount",
    "tax",
    "shipping",
    "delivery",
    "date",
    "report",
    "summary",
    "quarter",
    "growth",
    "revenue",
    "margin",
    "forecast",
    "budget",
    "review",
    "meeting",
    "agenda",
    "minutes",
    "action",
    "items",
    "owner",
    "deadline",
    "project",
    "status",
    "team",
    "please",
    "find",
    "attached",
    "the",
    "signed",
    "contract",
    "and",
    "return",
    "a",
    "copy",
    "by",
    "Friday",
    "weather",
    "river",
    "mountain",
    "garden",
    "window",
    "kitchen",
    "morning",
    "evening",
    "station",
]


def sentences(seed: int, words: int) -> str:
    """Plausible running text of about ``words`` words, the same per seed."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < words:
        sentence = [rng.choice(_WORDS) for _ in range(rng.randint(5, 12))]
        sentence[0] = sentence[0].capitalize()
        if rng.random() < 0.3:
            sentence.insert(
                rng.randint(1, len(sentence) - 1), str(rng.randint(2, 9999))
            )
        out.extend(sentence)
        out[-1] += rng.choice([".", ".", ",", ";", "?"])
    return " ".join(out)


def wrap(text: str, width: float, measure: Callable[[str], float] = len) -> list[str]:
    """``text`` broken into lines whose ``measure`` is at most ``width``."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and measure(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def draw_page(
    text: str,
    size: tuple[int, int] = (1240, 1754),
    font_px: int = 34,
    margin: int = 100,
) -> tuple[Image.Image, str]:
    """A white grayscale page with ``text`` set in black; also the lines set.

    Returns the page and the text as drawn, one line per line, as far as
    the page had room for it.
    """
    font = ImageFont.truetype(str(FONT_PATH), font_px)
    page = Image.new("L", size, 255)
    pen = ImageDraw.Draw(page)
    step = int(font_px * 1.5)
    lines = wrap(text, size[0] - 2 * margin, font.getlength)
    room = (size[1] - 2 * margin) // step
    lines = lines[:room]
    for row, line in enumerate(lines):
        pen.text((margin, margin + row * step), line, font=font, fill=0)
    return page, "\n".join(lines)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _write_pdf(objects: Sequence[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1)
    out += trailer_extra + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def text_pdf(pages: Sequence[Sequence[str]], encrypt: bool = False) -> bytes:
    """A PDF whose pages carry their lines as real text, in Helvetica.

    With ``encrypt`` the trailer names a standard security handler whose
    user password is not the empty one, so nobody can open it unasked.
    """
    count = len(pages)
    font_number = 3 + 2 * count
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
    ]
    for index, lines in enumerate(pages):
        content = b"BT /F1 12 Tf 16 TL 72 720 Td\n"
        content += b"".join(_pdf_string(line) + b" Tj T*\n" for line in lines)
        content += b"ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (font_number, 4 + 2 * index)
        )
        objects.append(
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")

    if not encrypt:
        return _write_pdf(objects)
    digest = hashlib.sha256(b"not the empty password").digest()
    objects.append(
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
        % (digest.hex().encode(), digest[::-1].hex().encode())
    )
    file_id = b"<%s>" % digest[:16].hex().encode()
    trailer = b"/Encrypt %d 0 R /ID [%s %s] " % (len(objects), file_id, file_id)
    return _write_pdf(objects, trailer)


def image_pdf(pages: Sequence[Image.Image], path: Path, dpi: int = 150) -> Path:
    """An image-only PDF, one scanned-looking page per image."""
    first, *rest = [page.convert("L") for page in pages]
    first.save(path, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return path


def multipage_tiff(pages: Sequence[Image.Image], path: Path) -> Path:
    """A multi-page TIFF, one directory per image."""
    first, *rest = pages
    first.save(path, "TIFF", save_all=True, append_images=rest)
    return path
