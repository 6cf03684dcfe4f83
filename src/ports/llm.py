"""Summarizer port: a short summary of a document's text."""

from __future__ import annotations

import abc


class Summarizer(abc.ABC):
    @abc.abstractmethod
    def summarize(self, text: str) -> str:
        """A summary of ``text`` in its own language, a paragraph or a few.

        Raises ``TransientFailure`` when a retry may succeed (rate limits,
        timeouts, server errors) and ``UnreadableDocument`` when it cannot.
        """
