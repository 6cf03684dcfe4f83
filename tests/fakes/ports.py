"""Fakes of the OCR and summarizer ports, with state tests can assert on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from tasks_api.domain.errors import JobCancelled, TransientFailure
from tasks_api.ports.llm import Summarizer
from tasks_api.ports.ocr import PageText, TextReader
from tasks_api.ports.queue import JobQueue


class ScriptedReader(TextReader):
    """Yields the given pages; can wait before a page until released."""

    def __init__(self, pages: list[str], hold_before_page: int | None = None) -> None:
        self.pages = pages
        self.hold_before_page = hold_before_page
        self.reached_hold = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def languages(self) -> frozenset[str]:
        return frozenset({"eng", "deu"})

    def read(
        self,
        path: Path,
        media_type: str,
        language: str,
        is_cancelled: Callable[[], bool],
    ) -> Iterator[PageText]:
        self.calls += 1
        for number, text in enumerate(self.pages, start=1):
            if number == self.hold_before_page:
                self.reached_hold.set()
                while not self.release.wait(0.02):
                    if is_cancelled():
                        raise JobCancelled("Cancelled while reading.")
            yield PageText(number=number, total=len(self.pages), text=text)


class RecordingSummarizer(Summarizer):
    """Summarizes as the first sentence; fails first ``failures`` times."""

    def __init__(self, failures: int = 0, retry_after: float | None = None) -> None:
        self.texts: list[str] = []
        self.failures = failures
        self.retry_after = retry_after

    def summarize(self, text: str) -> str:
        self.texts.append(text)
        if self.failures:
            self.failures -= 1
            raise TransientFailure(
                "The summarizer is busy.", retry_after=self.retry_after
            )
        return text.split(".")[0] + "."


class RecordingQueue(JobQueue):
    """Keeps what was sent; ``drain`` runs it through a handler."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    def enqueue(self, job_id: str, delay_seconds: float = 0) -> None:
        self.sent.append((job_id, delay_seconds))
