"""Fixtures for the summarizer tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.openai_server import FakeOpenAIServer, running_openai_server


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A chat-completions server on 127.0.0.1, stopped after the test."""
    with running_openai_server() as server:
        yield server
