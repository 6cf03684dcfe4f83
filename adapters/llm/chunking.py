"""Token estimates and token-sized chunks of text, without a tokenizer.

``tiktoken`` fetches its encodings from the internet the first time it
runs, which a worker without outside access cannot do, so tokens here are
estimated: one per four ASCII characters, one per other character. That
is close for English prose with OpenAI's tokenizers, generous for accented
and non-Latin scripts, and can fall short by up to about a third for
digit-heavy text or code. Budgets given to ``split_into_chunks`` should
leave that much room below a model's context window.
"""

from __future__ import annotations

import math
import re

ASCII_CHARS_PER_TOKEN = 4
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002][\"')\]\u201d\u2019]*\s")


def estimate_tokens(text: str) -> int:
    """An estimate of the tokens ``text`` takes, see the module docstring."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return math.ceil(ascii_chars / ASCII_CHARS_PER_TOKEN) + len(text) - ascii_chars


def split_into_chunks(text: str, max_tokens: int) -> list[str]:
    """``text`` cut into pieces of at most ``max_tokens`` estimated tokens.

    Cuts fall at a paragraph break if one is in the last half of a piece,
    else at a sentence end, else between words, else anywhere.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = _furthest_end(text, start, max_tokens)
        if end < len(text):
            end = _natural_break(text, start, end)
        chunk = text[start:end].strip()
        if chunk:
            chunks.append(chunk)
        start = end
    return chunks


def _furthest_end(text: str, start: int, max_tokens: int) -> int:
    """The furthest end for a piece from ``start`` within the budget."""
    end = min(len(text), start + max_tokens * ASCII_CHARS_PER_TOKEN)
    while True:
        tokens = estimate_tokens(text[start:end])
        if tokens <= max_tokens:
            return end
        shorter = start + (end - start) * max_tokens // tokens
        end = max(start + 1, min(shorter, end - 1))


def _natural_break(text: str, start: int, end: int) -> int:
    """The best place to cut ``text[start:end]``, near its end."""
    floor = start + (end - start) // 2
    paragraph = text.rfind("\n\n", floor, end)
    if paragraph != -1:
        return paragraph + 2
    sentence_ends = list(_SENTENCE_END.finditer(text, floor, end))
    if sentence_ends:
        return sentence_ends[-1].end()
    space = max(text.rfind(" ", floor, end), text.rfind("\n", floor, end))
    if space != -1:
        return space + 1
    return end
