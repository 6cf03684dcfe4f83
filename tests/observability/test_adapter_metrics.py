"""Metrics the adapters keep in the process that runs them.

They live in prometheus_client's default registry, which every test of
this process shares, so each test compares a count before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAIServer, Reply, running_openai_server
from flask import Flask
from ocr.helpers import never, small_page
from prometheus_client import REGISTRY

from observability.support import scrape
from tasks_api.adapters.llm.openai import OpenAISummarizer
from tasks_api.adapters.ocr.tesseract import TesseractReader
from tasks_api.domain.errors import TransientFailure, UnreadableDocument

TEXT = "The invoice of March is paid. The order ships on Friday."


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def calls(outcome: str) -> float:
    return count("tasks_api_llm_calls_total", outcome=outcome)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with running_openai_server() as server:
        yield server


@pytest.fixture
def summarizer(openai_server: FakeOpenAIServer) -> OpenAISummarizer:
    return OpenAISummarizer(
        api_key="test-key", base_url=openai_server.base_url, max_retries=0
    )


def test_a_summary_counts_one_call_and_the_tokens_the_server_reported(
    summarizer: OpenAISummarizer,
) -> None:
    before_calls = calls("ok")
    before_prompt = count("tasks_api_llm_tokens_total", outcome="ok", kind="prompt")
    before_answer = count("tasks_api_llm_tokens_total", outcome="ok", kind="completion")

    summary = summarizer.summarize(TEXT)

    assert calls("ok") == before_calls + 1
    # The fake server counts a word as a token.
    answer = count("tasks_api_llm_tokens_total", outcome="ok", kind="completion")
    assert answer == before_answer + len(summary.split())
    prompt = count("tasks_api_llm_tokens_total", outcome="ok", kind="prompt")
    assert prompt > before_prompt + len(TEXT.split())


@pytest.mark.parametrize(
    ("reply", "error", "outcome"),
    [
        (Reply.server_error(503), TransientFailure, "retryable"),
        (Reply.error(401, "Bad key."), UnreadableDocument, "misconfigured"),
        (Reply.error(400, "Too long."), UnreadableDocument, "rejected"),
    ],
)
def test_a_failed_call_is_counted_by_its_outcome(
    summarizer: OpenAISummarizer,
    openai_server: FakeOpenAIServer,
    reply: Reply,
    error: type[Exception],
    outcome: str,
) -> None:
    openai_server.always(reply)
    before = calls(outcome)
    before_ok = calls("ok")

    with pytest.raises(error):
        summarizer.summarize(TEXT)

    assert calls(outcome) == before + 1
    assert calls("ok") == before_ok


def test_each_page_read_by_tesseract_is_timed(tmp_path: Path) -> None:
    path = tmp_path / "two-pages.tiff"
    pages = [small_page(seed)[0] for seed in (1, 2)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    reader = TesseractReader(workers=2, page_timeout_seconds=30)
    before = count("tasks_api_ocr_page_seconds_count")

    read = list(reader.read(path, "image/tiff", "eng", never))

    assert len(read) == 2
    assert count("tasks_api_ocr_page_seconds_count") == before + 2
    assert count("tasks_api_ocr_page_seconds_sum") > 0


def test_the_api_serves_the_adapters_metrics_with_its_own(app: Flask) -> None:
    samples = scrape(app.test_client())

    names = {name for name, _ in samples}
    assert "tasks_api_ocr_page_seconds_count" in names
    assert ("tasks_api_llm_calls_total", (("outcome", "rejected"),)) in samples
