"""Small helpers for the OCR tests."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from .documents import draw_page, sentences


def small_page(seed: int, words: int = 40) -> tuple[Image.Image, str]:
    """A short page of known text, quick to read, and that text."""
    return draw_page(sentences(seed, words), size=(1100, 560), font_px=30, margin=60)


def words_found(truth: str, read: str) -> float:
    """The share of the truth's words that the reading has, by count."""
    wanted = [word.strip(".,;?") for word in truth.split()]
    seen = [word.strip(".,;?") for word in read.split()]
    hits = 0
    for word in wanted:
        if word in seen:
            seen.remove(word)
            hits += 1
    return hits / len(wanted)


def tesseract_children() -> list[int]:
    """Pids of this process's tesseract children, running or not reaped."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = stat[stat.rindex(")") + 2 :].split()[1]
        if parent == me and name == "tesseract":
            found.append(int(entry.name))
    return found


def never() -> bool:
    return False
