"""Token estimates and chunking for the map-reduce summaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks_api.adapters.llm.chunking import estimate_tokens, split_into_chunks


def without_whitespace(text: str) -> str:
    return "".join(text.split())


def test_ascii_text_counts_a_token_per_four_characters() -> None:
    assert estimate_tokens("abcd" * 100) == 100


def test_other_characters_count_a_token_each() -> None:
    assert estimate_tokens("日本語のテキスト") == 8
    assert estimate_tokens("déjà") == 3


def test_a_short_text_is_one_chunk() -> None:
    assert split_into_chunks("  A short note.  ", max_tokens=100) == ["A short note."]


def test_chunks_end_at_paragraph_breaks_when_there_are_some() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 30 for n in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)

    chunks = split_into_chunks(text, max_tokens=100)

    assert len(chunks) > 1
    assert all(chunk.startswith("Paragraph") for chunk in chunks)


def test_chunks_end_at_sentence_ends_within_a_paragraph() -> None:
    text = " ".join(f"Sentence {n} has a few ordinary words in it." for n in range(40))

    chunks = split_into_chunks(text, max_tokens=60)

    assert len(chunks) > 1
    assert all(chunk.endswith(".") for chunk in chunks)


def test_a_text_without_spaces_is_still_cut_to_size() -> None:
    chunks = split_into_chunks("x" * 1000, max_tokens=30)

    assert all(estimate_tokens(chunk) <= 30 for chunk in chunks)
    assert "".join(chunks) == "x" * 1000


def test_a_budget_below_one_token_is_refused() -> None:
    with pytest.raises(ValueError):
        split_into_chunks("text", max_tokens=0)


@given(
    text=st.text(
        alphabet="abc de.\n\u00e9\u5b57",
        max_size=600,
    ),
    max_tokens=st.integers(min_value=1, max_value=80),
)
def test_chunks_fit_the_budget_and_keep_all_the_text_in_order(
    text: str, max_tokens: int
) -> None:
    chunks = split_into_chunks(text, max_tokens)

    assert all(estimate_tokens(chunk) <= max_tokens for chunk in chunks)
    assert without_whitespace("".join(chunks)) == without_whitespace(text)
