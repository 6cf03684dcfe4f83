"""Texts the summarizer tests share."""

from __future__ import annotations

import random
import textwrap


def long_report(pages: int, seed: int = 7) -> str:
    """Pages of generated but varied sentences with headers and page numbers."""
    rng = random.Random(seed)
    subjects = ["The council", "The miller", "A teacher", "The county", "Visitors"]
    verbs = ["repaired", "visited", "described", "funded", "photographed"]
    things = ["the mill wheel", "the footbridge", "the church roof", "the school"]
    times = ["in spring", "after the flood", "every summer", "in 1963", "at dawn"]
    ends = ["helpers", "neighbours", "cousins", "pupils", "carpenters", "guests"]
    text = []
    for number in range(1, pages + 1):
        sentences = [
            f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(things)} "
            f"{rng.choice(times)} with {rng.randint(2, 900)} {rng.choice(ends)}."
            for _ in range(60)
        ]
        body = textwrap.fill(" ".join(sentences), width=rng.randint(70, 80))
        text.append(f"ARDEN HISTORY\n\n{body}\n\nPage {number} of {pages}\n")
    return "\f".join(text)
