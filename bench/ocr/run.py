"""Bench: TesseractReader against plain ``tesseract``, same pages, same run.

    .venv/bin/python -m bench.ocr [--pages N] [--workers N] [--keep DIR]

For every category of the corpus (``corpus.py``) both pipelines read the
same pages, one after the other (which goes first alternates between
categories), each with ``workers`` processes at once:

- plain: ``tesseract PAGE stdout`` with ``OMP_THREAD_LIMIT=1``, one
  process per worker, on the page files as they are;
- ours: one ``TesseractReader(workers=N)`` reading the documents, N at
  a time.

It prints per category the character and word error rates (edits per
character or word of the known text, pooled over the pages), pages per
second of wall time, CPU seconds per page (this process and its children,
steadier than wall time on a shared machine), and ours against plain.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.ocr.corpus import Document, build
from bench.ocr.metrics import edit_distance, normalized
from tasks_api.adapters.ocr.tesseract import TesseractReader

# Error ratios (ours / plain) the clean-up must reach, by category.
ERROR_TARGETS = {"clean": 1.05, "skewed": 0.5, "noisy": 0.5, "low_contrast": 0.5}
THROUGHPUT_TARGET = 1.0


@dataclass
class Outcome:
    """What one pipeline did with one category's pages."""

    char_edits: int = 0
    chars: int = 0
    word_edits: int = 0
    words: int = 0
    pages: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def cer(self) -> float:
        return self.char_edits / max(1, self.chars)

    @property
    def wer(self) -> float:
        return self.word_edits / max(1, self.words)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def cpu_per_page(self) -> float:
        return self.cpu / max(1, self.pages)

    def score(self, truths: Sequence[str], reads: Sequence[str]) -> None:
        for truth, read in zip(truths, reads, strict=True):
            truth_text, read_text = normalized(truth), normalized(read)
            self.char_edits += edit_distance(truth_text, read_text)
            self.chars += len(truth_text)
            self.word_edits += edit_distance(truth.split(), read.split())
            self.words += len(truth.split())
            self.pages += 1

    def add(self, other: Outcome) -> None:
        for name in ("char_edits", "chars", "word_edits", "words", "pages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wall += other.wall
        self.cpu += other.cpu


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(work: Callable[[], list[str]]) -> tuple[list[str], float, float]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = work()
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


def run_plain(
    documents: Sequence[Document], workers: int
) -> tuple[list[str], float, float]:
    """Every page through plain ``tesseract``, ``workers`` processes at once."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    pages = [image for document in documents for image in document.page_images]

    def one(image: Path) -> str:
        done = subprocess.run(
            ["tesseract", str(image), "stdout"],
            capture_output=True,
            env=env,
            check=True,
        )
        return done.stdout.decode("utf-8", "replace")

    def work() -> list[str]:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(one, pages))

    return _timed(work)


def run_ours(
    documents: Sequence[Document], reader: TesseractReader, workers: int
) -> tuple[list[str], float, float]:
    """Every document through ``reader``, ``workers`` documents at once."""

    def one(document: Document) -> list[str]:
        pages = reader.read(document.path, document.media_type, "eng", lambda: False)
        return [page.text for page in pages]

    def work() -> list[str]:
        with ThreadPoolExecutor(workers) as pool:
            return [text for texts in pool.map(one, documents) for text in texts]

    return _timed(work)


def _ratio(ours: float, plain: float) -> str:
    if plain == 0:
        return "=" if ours == 0 else "inf"
    return f"{ours / plain:.2f}"


COLUMNS = (
    "category",
    "pages",
    "CER plain",
    "ours",
    "x",
    "WER plain",
    "ours",
    "x",
    "p/s plain",
    "ours",
    "x",
    "cpu/p plain",
    "ours",
)


def _row(category: str, plain: Outcome, ours: Outcome) -> list[str]:
    return [
        category,
        str(ours.pages),
        f"{plain.cer:.4f}",
        f"{ours.cer:.4f}",
        _ratio(ours.cer, plain.cer),
        f"{plain.wer:.4f}",
        f"{ours.wer:.4f}",
        _ratio(ours.wer, plain.wer),
        f"{plain.pages_per_second:.2f}",
        f"{ours.pages_per_second:.2f}",
        _ratio(ours.pages_per_second, plain.pages_per_second),
        f"{plain.cpu_per_page:.2f}",
        f"{ours.cpu_per_page:.2f}",
    ]


def report(results: dict[str, tuple[Outcome, Outcome]]) -> list[str]:
    """The table, then whether each target was met."""
    total_plain, total_ours = Outcome(), Outcome()
    rows = [list(COLUMNS)]
    for category, (plain, ours) in results.items():
        total_plain.add(plain)
        total_ours.add(ours)
        rows.append(_row(category, plain, ours))
    rows.append(_row("TOTAL", total_plain, total_ours))

    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))

    speed = total_ours.pages_per_second / max(1e-9, total_plain.pages_per_second)
    lines += [
        "",
        f"throughput: ours {speed:.2f}x plain "
        f"(target >= {THROUGHPUT_TARGET}x): {_verdict(speed >= THROUGHPUT_TARGET)}",
    ]
    for category, limit in ERROR_TARGETS.items():
        if category in results:
            plain, ours = results[category]
            met = ours.cer <= plain.cer * limit
            lines.append(
                f"{category} CER: ours {ours.cer:.4f}, plain {plain.cer:.4f} "
                f"(target <= {limit}x plain): {_verdict(met)}"
            )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _compare(
    documents: Sequence[Document],
    reader: TesseractReader,
    workers: int,
    ours_first: bool,
) -> tuple[Outcome, Outcome]:
    """Both pipelines on the same documents; who goes first alternates, so
    that a machine growing busier or quieter favours neither."""
    truths = [truth for document in documents for truth in document.truth]
    plain, ours = Outcome(), Outcome()
    runs = [
        (plain, lambda: run_plain(documents, workers)),
        (ours, lambda: run_ours(documents, reader, workers)),
    ]
    for outcome, run in reversed(runs) if ours_first else runs:
        reads, outcome.wall, outcome.cpu = run()
        outcome.score(truths, reads)
    return plain, ours


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ocr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=4, help="pages per category (4)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes at once, for both pipelines (all cores)",
    )
    parser.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        documents = build(folder, pages_per_category=args.pages)
        print(
            f"corpus: {sum(len(d.truth) for d in documents)} pages in "
            f"{time.perf_counter() - started:.0f} s; {args.workers} workers",
            flush=True,
        )

        reader = TesseractReader(workers=args.workers)
        results: dict[str, tuple[Outcome, Outcome]] = {}
        categories = dict.fromkeys(document.category for document in documents)
        for turn, category in enumerate(categories):
            chosen = [d for d in documents if d.category == category]
            results[category] = _compare(chosen, reader, args.workers, turn % 2 == 1)
            plain, ours = results[category]
            print(
                f"  {category}: plain {plain.wall:.1f} s, ours {ours.wall:.1f} s",
                flush=True,
            )

    print()
    print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
