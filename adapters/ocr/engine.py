"""Running the ``tesseract`` program, in a way that can be stopped.

pytesseract parses Tesseract's TSV and orientation output here, but it
does not start the program: its calls block until Tesseract exits, with
a timeout at most, so a cancelled job would wait for the page to finish.
``Popen`` polled every ``POLL_SECONDS`` lets a cancellation or a page
timeout kill Tesseract mid-page.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pytesseract.pytesseract import file_to_dict, osd_to_dict

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# Listing the installed languages takes milliseconds; past this, give up.
LIST_SECONDS = 30.0


class Stopped(Exception):
    """Raised when a Tesseract call was ended because the job was cancelled."""


class TimedOut(Exception):
    """Raised when a Tesseract call ran past its deadline and was ended."""


class EngineFailed(Exception):
    """Raised when Tesseract exits with an error."""


@dataclass(frozen=True)
class Recognition:
    """The text Tesseract read on one page and how sure it was of it."""

    text: str
    confidence: float  # mean word confidence, 0-100; 0 when no words
    words: int


@dataclass(frozen=True)
class Orientation:
    """How far to turn a page clockwise to stand it upright, and how sure."""

    rotate: int
    confidence: float


class TesseractEngine:
    """Starts ``tesseract`` one page at a time, single-threaded.

    Tesseract's OpenMP threads make it several times slower on a busy
    machine, so each process gets ``OMP_THREAD_LIMIT=1`` and parallelism
    comes from running several processes.
    """

    def __init__(self, command: str = "tesseract") -> None:
        self.command = command
        self._env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def languages(self) -> frozenset[str]:
        """The languages the installed Tesseract has data for."""
        # pytesseract.get_languages would do, but it reads the command from
        # a module global that a reader of its own command must not change.
        deadline = time.monotonic() + LIST_SECONDS
        output = self._run([self.command, "--list-langs"], None, deadline)
        lines = output.decode("utf-8", "replace").splitlines()
        return frozenset(line.strip() for line in lines[1:] if line.strip())

    def recognize(
        self,
        image: Path,
        language: str,
        stop: threading.Event,
        deadline: float,
    ) -> Recognition:
        """Read the text of the page in ``image`` (a file Leptonica reads).

        Raises ``Stopped`` once ``stop`` is set and ``TimedOut`` after
        ``deadline`` (a ``time.monotonic`` value), killing Tesseract.
        """
        # No retrying unsure lines as inverted text: it cost about 4% of
        # the time on the bench pages. The cost of that: light words on a
        # dark band inside a light page are not read (a page mostly dark
        # is inverted whole by the clean-up).
        args = [
            self.command,
            str(image),
            "stdout",
            "-l",
            language,
            "--psm",
            "3",
            "-c",
            "tessedit_do_invert=0",
            "tsv",
        ]
        output = self._run(args, stop, deadline)
        return _from_tsv(output.decode("utf-8", "replace"))

    def orientation(
        self, image: Path, stop: threading.Event, deadline: float
    ) -> Orientation | None:
        """Which way up the page in ``image`` stands, or None if unsure."""
        args = [self.command, str(image), "stdout", "--psm", "0"]
        try:
            output = self._run(args, stop, deadline)
        except EngineFailed:
            # Too few letters to tell is an error exit; read it as unsure.
            return None
        found = osd_to_dict(output.decode("utf-8", "replace"))
        if "rotate" not in found:
            return None
        return Orientation(int(found["rotate"]), float(found["orientation_conf"]))

    def _run(
        self,
        args: list[str],
        stop: threading.Event | None,
        deadline: float,
    ) -> bytes:
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 - our own fixed arguments
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
        )
        try:
            while True:
                try:
                    output, errors = process.communicate(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if stop is not None and stop.is_set():
                        raise Stopped from None
                    if time.monotonic() > deadline:
                        raise TimedOut from None
        finally:
            if process.returncode is None:
                process.kill()
                process.communicate()
                log.debug(
                    "Killed tesseract (pid %d) after %.2f s.",
                    process.pid,
                    time.monotonic() - started,
                )

        if process.returncode != 0:
            message = errors.decode("utf-8", "replace").strip()
            raise EngineFailed(f"tesseract exited with {process.returncode}: {message}")
        return output


def _from_tsv(tsv: str) -> Recognition:
    """Text laid out as Tesseract found it, and its mean word confidence."""
    table = file_to_dict(tsv, "\t", -1)
    if not table.get("text"):
        return Recognition("", 0.0, 0)

    paragraphs: dict[tuple[int, int, int], dict[int, list[str]]] = {}
    confidences: list[float] = []
    rows = zip(
        table["page_num"],
        table["block_num"],
        table["par_num"],
        table["line_num"],
        table["conf"],
        table["text"],
        strict=False,
    )
    for page, block, paragraph, line, confidence, word in rows:
        word = str(word).strip()
        if not word or float(confidence) < 0:
            continue
        lines = paragraphs.setdefault((page, block, paragraph), {})
        lines.setdefault(line, []).append(word)
        confidences.append(float(confidence))

    text = "\n\n".join(
        "\n".join(" ".join(words) for words in lines.values())
        for lines in paragraphs.values()
    )
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return Recognition(text, mean, len(confidences))
