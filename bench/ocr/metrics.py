"""Character and word error rates against a page's known text."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance between two sequences of characters or words.

    Bit-parallel (Myers, as Hyyrö writes it for Levenshtein): one column
    of the table is one Python integer, so a page of 3,000 characters
    costs 3,000 big-integer steps instead of nine million cell updates.
    """
    if not a:
        return len(b)
    if not b:
        return len(a)

    masks: dict[Hashable, int] = {}
    for bit, item in enumerate(a):
        masks[item] = masks.get(item, 0) | (1 << bit)
    everything = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    plus, minus, score = everything, 0, len(a)

    for item in b:
        match = masks.get(item, 0)
        vertical = match | minus
        horizontal = (((match & plus) + plus) ^ plus) | match
        up = minus | ~(horizontal | plus)
        down = plus & horizontal
        if up & last:
            score += 1
        elif down & last:
            score -= 1
        up = (up << 1) | 1
        down <<= 1
        plus = (down | ~(vertical | up)) & everything
        minus = up & vertical & everything
    return score


def normalized(text: str) -> str:
    """Text with every run of blanks made one space: layout is not content."""
    return " ".join(text.split())


def cer(truth: str, read: str) -> float:
    """Character error rate: edits needed per character of the truth."""
    truth, read = normalized(truth), normalized(read)
    return edit_distance(truth, read) / max(1, len(truth))


def wer(truth: str, read: str) -> float:
    """Word error rate: word edits needed per word of the truth."""
    truth_words, read_words = truth.split(), read.split()
    return edit_distance(truth_words, read_words) / max(1, len(truth_words))
