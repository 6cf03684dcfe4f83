"""TesseractReader: the text of images, scans and PDFs, page by page."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_for
from pathlib import Path

import cv2
import numpy as np
from prometheus_client import Histogram

from tasks_api.adapters.ocr.cleanup import CleanPage, clean_page, transform
from tasks_api.adapters.ocr.documents import Document, open_document
from tasks_api.adapters.ocr.engine import (
    EngineFailed,
    Recognition,
    Stopped,
    TesseractEngine,
    TimedOut,
)
from tasks_api.domain.errors import JobCancelled, UnreadableDocument
from tasks_api.ports.ocr import PageText, TextReader

log = logging.getLogger(__name__)

# How often the reader asks ``is_cancelled`` while it waits for a page.
CANCEL_POLL_SECONDS = 0.15
# Below this mean word confidence a page may be sideways or upside down,
# and Tesseract's orientation detection is asked about it.
LOW_CONFIDENCE = 70.0
# Orientation answers less sure than this are ignored.
MIN_ORIENTATION_CONFIDENCE = 2.0

# In prometheus_client's default registry, so it is counted in whichever
# process reads: the embedded API, or a worker, whose Dramatiq middleware
# serves it. Pages that take their text from a PDF's text layer are not
# timed; neither are pages that fail or are stopped.
PAGE_SECONDS = Histogram(
    "tasks_api_ocr_page_seconds",
    "Time to draw, clean and read one page with Tesseract.",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)


class TesseractReader(TextReader):
    """Reads pages with Tesseract after cleaning them up with OpenCV.

    PDF pages that carry a real text layer are read from it, without OCR.
    Other pages are drawn (images decoded, PDF pages rendered at 300 dpi),
    cleaned (``cleanup.py``) and read by ``workers`` Tesseract processes
    at once; pages come back in order as soon as each is done. Pages
    whose first reading is unsure are checked for being turned, and
    turned upright and read again if they are.

    Each ``read`` gets ``workers`` threads of its own, made in the thread
    that reads: under gevent (the embedded API) that thread is a real one
    from the job pool, and patched thread objects made elsewhere cannot be
    waited on from it. The cost: two documents read at once run up to
    twice ``workers`` Tesseract processes.

    Cancellation is asked for between pages and every 0.15 s while a page
    is read, and kills the running Tesseract processes. A page running
    past ``page_timeout_seconds`` fails the document.
    """

    def __init__(
        self,
        max_pages: int = 200,
        max_pixels: int = 40_000_000,
        page_timeout_seconds: float = 60.0,
        workers: int | None = None,
        tesseract_cmd: str | None = None,
    ) -> None:
        self.max_pages = max_pages
        self.max_pixels = max_pixels
        self.page_timeout_seconds = page_timeout_seconds
        self.workers = workers or os.cpu_count() or 1
        self._engine = TesseractEngine(tesseract_cmd or "tesseract")
        self._languages: frozenset[str] | None = None

    def languages(self) -> frozenset[str]:
        # No lock: two first callers both ask Tesseract and get the same
        # answer, where a lock held across the subprocess could freeze a
        # gevent process for good.
        if self._languages is None:
            # "osd" only tells which way up a page is; it reads no text.
            self._languages = self._engine.languages() - {"osd"}
        return self._languages

    def read(
        self,
        path: Path,
        media_type: str,
        language: str,
        is_cancelled: Callable[[], bool],
    ) -> Iterator[PageText]:
        started = time.monotonic()
        document: Document | None = None
        done, outcome = 0, "failed"
        try:
            self._check_language(language)
            document = open_document(path, self.max_pages, self.max_pixels)
            if document.media_type != media_type:
                log.warning(
                    "File %r was declared %s but its bytes say %s; reading it as %s.",
                    path.name,
                    media_type,
                    document.media_type,
                    document.media_type,
                )
            with tempfile.TemporaryDirectory(prefix="ocr-") as scratch:
                pages = self._read_pages(
                    document, language, is_cancelled, Path(scratch)
                )
                for page in pages:
                    yield page
                    done += 1
            outcome = "read"
        except UnreadableDocument as error:
            outcome = f"unreadable ({error.code})"
            raise
        except JobCancelled:
            outcome = "cancelled"
            raise
        except GeneratorExit:
            outcome = "abandoned"
            raise
        finally:
            if document is not None:
                document.close()
            log.info(
                "Reading %r %s: %d of %s pages of %s in %.1f s.",
                path.name,
                outcome,
                done,
                document.count if document else "?",
                document.media_type if document else media_type,
                time.monotonic() - started,
            )

    def _check_language(self, language: str) -> None:
        missing = set(language.split("+")) - self.languages()
        if missing:
            raise UnreadableDocument(
                "unsupported_language",
                f"Text in {language!r} cannot be read here; the languages "
                f"installed are {', '.join(sorted(self.languages()))}.",
            )

    def _read_pages(
        self,
        document: Document,
        language: str,
        is_cancelled: Callable[[], bool],
        scratch: Path,
    ) -> Iterator[PageText]:
        """Keep the workers fed a page ahead and yield pages in order."""
        stop = threading.Event()
        ahead: deque[str | Future[str]] = deque()
        drawn = 0
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ocr-page")
        try:
            for number in range(1, document.count + 1):
                while drawn < document.count and len(ahead) <= self.workers:
                    if is_cancelled():
                        raise JobCancelled("Cancelled while reading pages.")
                    page = document.page(drawn)
                    if not isinstance(page, str):
                        page = pool.submit(
                            self._ocr_page, page, drawn + 1, language, stop, scratch
                        )
                    ahead.append(page)
                    drawn += 1

                # The page stays in ``ahead`` until read, so that the
                # clean-up below waits for it too.
                item = ahead[0]
                text = item if isinstance(item, str) else self._wait(item, is_cancelled)
                ahead.popleft()
                yield PageText(number=number, total=document.count, text=text)
                if is_cancelled():
                    raise JobCancelled("Cancelled between pages.")
        finally:
            stop.set()
            running = [item for item in ahead if not isinstance(item, str)]
            for future in running:
                future.cancel()
            wait_for(running)
            # Join the page threads here: left for the interpreter to join
            # at exit, they hold up the shutdown of a gevent process.
            pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self, future: Future[str], is_cancelled: Callable[[], bool]) -> str:
        while True:
            try:
                return future.result(timeout=CANCEL_POLL_SECONDS)
            except FutureTimeout:
                if is_cancelled():
                    raise JobCancelled("Cancelled while a page was read.") from None

    def _ocr_page(
        self,
        draw: Callable[[], np.ndarray],
        number: int,
        language: str,
        stop: threading.Event,
        scratch: Path,
    ) -> str:
        """Draw, clean and read one page; runs on a worker thread."""
        if stop.is_set():
            raise Stopped
        started = time.monotonic()
        deadline = started + self.page_timeout_seconds
        image = scratch / f"page-{number}.bmp"

        try:
            gray = draw()
            page = clean_page(gray, self.max_pixels)
            _write(image, page.image)
            reading = self._engine.recognize(image, language, stop, deadline)
            if reading.confidence < LOW_CONFIDENCE:
                reading = self._upright(
                    gray, page, reading, image, language, stop, deadline
                )
        except TimedOut:
            raise UnreadableDocument(
                "page_timeout",
                f"Page {number} took more than {self.page_timeout_seconds:g} "
                "seconds to read, so reading this file was given up.",
                page=number,
            ) from None
        except EngineFailed as error:
            log.warning("Tesseract failed on page %d: %s", number, error)
            raise UnreadableDocument(
                "ocr_failed",
                f"Page {number} could not be read by the text recognizer.",
                page=number,
            ) from error
        finally:
            image.unlink(missing_ok=True)

        seconds = time.monotonic() - started
        PAGE_SECONDS.observe(seconds)
        log.debug(
            "Page %d: %d words at confidence %.0f in %.2f s after %s.",
            number,
            reading.words,
            reading.confidence,
            seconds,
            ", ".join(page.steps) or "no clean-up",
        )
        return reading.text

    def _upright(
        self,
        gray: np.ndarray,
        page: CleanPage,
        first: Recognition,
        image: Path,
        language: str,
        stop: threading.Event,
        deadline: float,
    ) -> Recognition:
        """The better of ``first`` and a reading of the page stood upright.

        Tesseract's orientation detection looks at the page as first read
        (``image``); if it would turn it, the page as drawn is turned to
        match and cleaned afresh, since lines that ran down the page could
        not be measured for skew before.
        """
        orientation = self._engine.orientation(image, stop, deadline)
        if (
            orientation is None
            or orientation.rotate % 360 == 0
            or orientation.confidence < MIN_ORIENTATION_CONFIDENCE
        ):
            return first

        # Tesseract says how far to turn clockwise; transform turns the
        # other way, from the page as drawn, which the survey may already
        # have turned over once.
        degrees = (180 if page.turned_over else 0) - orientation.rotate
        upright = clean_page(
            transform(gray, degrees % 360), self.max_pixels, may_turn_over=False
        )
        _write(image, upright.image)
        second = self._engine.recognize(image, language, stop, deadline)
        log.debug(
            "Turned a page by %d degrees: confidence %.0f, was %.0f.",
            orientation.rotate,
            second.confidence,
            first.confidence,
        )
        return second if second.confidence > first.confidence else first


def _write(path: Path, image: np.ndarray) -> None:
    # Uncompressed BMP in a file. Measured on a noisy A4 page at 300 dpi:
    # PNG took 0.26 s to encode and saved Tesseract nothing in reading;
    # BMP takes 0.005 s. Through stdin Tesseract read the same 8 MB about
    # 0.2 s slower than from a file.
    if not cv2.imwrite(str(path), image):
        raise OSError(f"Could not write the page image {path}.")
