"""A local summarizer that picks the most central sentences of a text."""

from __future__ import annotations

import collections
import logging
import math
import re
import time
from dataclasses import dataclass

import numpy as np

from tasks_api.ports.llm import Summarizer

log = logging.getLogger(__name__)

# Lines repeated this often (digits ignored) may be headers or footers.
_REPEATED_LINE_MIN = 3
_PAGE_EDGE = 3
_DAMPING = 0.85
_REDUNDANT_ABOVE = 0.8
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st sr jr vs etc eg ie cf al fig figs no nos vol pp ch
    sec art inc ltd co corp dept est approx jan feb mar apr jun jul aug sep
    sept oct nov dec
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
_STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be
    because been before being below between both but by can could did do
    does doing down during each few for from further had has have having he
    her here hers him his how however i if in into is it its itself just me
    more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them
    then there these they this those through to too under until up upon
    very was we were what when where which while who whom why will with
    would you your yours shall may might must one two thus
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
# Unicode spelled out: en and em dash; closing and opening curly quotes and
# guillemet; the CJK full stop and full-width "!" and "?".
_DASHES = "-\u2013\u2014"
_CLOSERS = "\"')]\u2019\u201d\u00bb"
_OPENERS = "\"'([\u2018\u201c\u00ab"
_CJK_STOPS = "\u3002\uff01\uff1f"
_PAGE_MARK = re.compile(
    rf"""^(?:
        [{_DASHES}\s]*\d{{1,4}}[{_DASHES}\s]*       # 12, - 12 -
      | (?:page|p\.?|seite|p[aá]gina)\s*\d{{1,4}}
        (?:\s*(?:of|/|de|von)\s*\d{{1,4}})?     # Page 3, Page 3 of 10
      | \d{{1,4}}\s*/\s*\d{{1,4}}                 # 3 / 10
      | [ivxlcdm]{{1,7}}                        # roman page numbers
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_HYPHEN_BREAK = re.compile(r"(\w)[-\u00ad]\n[ \t]*(\w)")
_SENTENCE_BREAK = re.compile(
    rf"[.!?\u2026]+[{re.escape(_CLOSERS)}]*\s+|[{_CJK_STOPS}]+"
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_TERMINAL = tuple(".!?\u2026" + _CJK_STOPS + _CLOSERS)


@dataclass(frozen=True)
class _Sentence:
    """A sentence of the source and where it stands in it."""

    position: int
    text: str


class ExtractiveSummarizer(Summarizer):
    """Summaries made of the source's own most central sentences.

    The text is cleaned of OCR debris (symbol lines, page numbers, running
    headers and footers, short fragments), unwrapped into sentences, and
    the sentences are ranked by continuous LexRank over TF-IDF cosine
    similarity. The best ones that fit ``max_chars`` and ``max_sentences``
    are returned in source order. Empty text, or text with no sentence
    left after cleaning, gives an empty summary.

    LexRank runs on sparse vectors, so time grows with the number of
    words rather than sentences squared: about a second for a 300-page
    text. Limits: the stopword list is English, so other languages rely
    on IDF alone to discount common words; sentence splitting knows Latin
    punctuation and CJK full stops only; a line-end hyphen before a
    lowercase letter is always joined, so "well-\\nknown" reads
    "wellknown".
    """

    def __init__(
        self,
        max_chars: int = 600,
        max_sentences: int = 5,
        max_candidates: int = 20_000,
    ) -> None:
        if max_chars < 20 or max_sentences < 1 or max_candidates < 1:
            raise ValueError("summary budget too small to hold a sentence")
        self.max_chars = max_chars
        self.max_sentences = max_sentences
        self.max_candidates = max_candidates

    def summarize(self, text: str) -> str:
        """The most central sentences of ``text``, in source order."""
        started = time.monotonic()
        sentences = _candidates(split_sentences(text), self.max_candidates)
        if not sentences:
            return ""

        scores = _lexrank([_terms(s.text) for s in sentences])
        chosen = self._choose(sentences, scores)
        summary = " ".join(s.text for s in sorted(chosen, key=lambda s: s.position))

        log.debug(
            "Extracted %d of %d sentences (%d chars) in %.2fs.",
            len(chosen),
            len(sentences),
            len(summary),
            time.monotonic() - started,
        )
        return summary

    def _choose(
        self, sentences: list[_Sentence], scores: np.ndarray
    ) -> list[_Sentence]:
        """The best sentences that fit the budget, skipping near repeats."""
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        chosen: list[_Sentence] = []
        chosen_terms: list[dict[str, float]] = []
        room = self.max_chars
        for index in order:
            sentence = sentences[index]
            cost = len(sentence.text) + (1 if chosen else 0)
            if cost > room:
                continue
            terms = _unit_vector(_terms(sentence.text))
            if any(_cosine(terms, other) > _REDUNDANT_ABOVE for other in chosen_terms):
                continue
            chosen.append(sentence)
            chosen_terms.append(terms)
            room -= cost
            if len(chosen) == self.max_sentences or room < 20:
                break

        if not chosen:
            best = sentences[order[0]]
            chosen = [_Sentence(best.position, _shorten(best.text, self.max_chars))]
        return chosen


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, OCR debris dropped and lines unwrapped."""
    sentences: list[str] = []
    for block in _blocks(text):
        sentences.extend(_split_block(block))
    return sentences


def _blocks(text: str) -> list[str]:
    """Paragraphs and headings of ``text``, each unwrapped to one line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_BREAK.sub(_join_hyphenated, text)
    pages = [
        [" ".join(line.split()) for line in page.split("\n")]
        for page in text.split("\f")
    ]
    repeated = _running_lines(pages)
    lines = [line for page in pages for line in (*page, "")]
    widths = sorted(len(line) for line in lines if len(line.split()) >= 3)
    typical_width = widths[len(widths) // 2] if widths else 0

    blocks: list[str] = []
    current: list[str] = []
    for number, line in enumerate(lines):
        if not line or _is_debris(line) or _line_key(line) in repeated:
            if not line and current:
                blocks.append(" ".join(current))
                current = []
            continue
        current.append(line)
        following = _next_kept_line(lines, number + 1, repeated)
        if _ends_heading(line, following, typical_width):
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def _join_hyphenated(match: re.Match[str]) -> str:
    """A word hyphenated across a line break, made whole again.

    The hyphen goes when the word goes on in lowercase ("bicy-cles") and
    stays before a capital ("Anglo-Saxon").
    """
    before, after = match.groups()
    return before + after if after.islower() else f"{before}-{after}"


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of the running headers and footers among ``pages``' lines.

    With pages marked by form feeds, a line counts when it is at the top
    or bottom of at least a fifth of the pages; without, when it is a
    short line seen about once per 200 lines. Either way at least three
    times, so that prose that happens to repeat is kept.
    """
    counts: collections.Counter[str] = collections.Counter()
    if len(pages) > 1:
        for page in pages:
            kept = [line for line in page if line]
            edges = kept[:_PAGE_EDGE] + kept[-_PAGE_EDGE:]
            counts.update({_line_key(line) for line in edges})
        least = max(_REPEATED_LINE_MIN, len(pages) / 5)
    else:
        short = [line for line in pages[0] if 0 < len(line.split()) <= 8]
        counts.update(_line_key(line) for line in short)
        least = max(_REPEATED_LINE_MIN, len(pages[0]) / 200)
    return {key for key, count in counts.items() if count >= least}


def _is_debris(line: str) -> bool:
    """Whether a line is a page mark or a run of stray symbols."""
    if _PAGE_MARK.match(line):
        return True
    letters = sum(ch.isalpha() for ch in line)
    visible = sum(not ch.isspace() for ch in line)
    return letters < 3 or letters < 0.5 * visible


def _next_kept_line(lines: list[str], start: int, repeated: set[str]) -> str:
    for line in lines[start : start + 5]:
        if line and not _is_debris(line) and _line_key(line) not in repeated:
            return line
        if not line:
            return ""
    return ""


def _ends_heading(line: str, following: str, typical_width: int) -> bool:
    """Whether ``line`` is a title standing alone above ``following``."""
    return (
        bool(following)
        and following[0].isupper()
        and not line.endswith((*_TERMINAL, ",", ";", ":"))
        and len(line.split()) <= 10
        and len(line) < 0.6 * typical_width
    )


def _split_block(block: str) -> list[str]:
    """Sentences of one unwrapped block, keeping abbreviations whole."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(block):
        end = match.end()
        following = block[end : end + 1]
        if match.group().strip()[0] not in _CJK_STOPS:
            if not following or not (
                following.isupper() or following.isdigit() or following in _OPENERS
            ):
                continue
            if _ends_with_abbreviation(block[start : match.start() + 1]):
                continue
        sentences.append(block[start:end].strip())
        start = end
    sentences.append(block[start:].strip())
    return [s for s in sentences if s]


def _ends_with_abbreviation(text: str) -> bool:
    words = text.rstrip(".").split()
    if not words:
        return False
    last = words[-1].lower().strip("(\"'")
    return last.replace(".", "") in _ABBREVIATIONS or (
        len(last) == 1 and last.isalpha()
    )


def _candidates(sentences: list[str], limit: int) -> list[_Sentence]:
    """Sentences worth ranking; fragments go unless nothing else is left."""
    numbered = [_Sentence(i, s) for i, s in enumerate(sentences)]
    whole = [s for s in numbered if not _is_fragment(s.text)]
    kept = whole or [s for s in numbered if _terms(s.text)]
    if len(kept) > limit:
        step = len(kept) / limit
        kept = [kept[int(i * step)] for i in range(limit)]
    return kept


def _is_fragment(sentence: str) -> bool:
    words = sentence.split()
    if len(words) < 4:
        return True
    return len(words) < 8 and not sentence.endswith(_TERMINAL)


def _terms(sentence: str) -> collections.Counter[str]:
    """Content words of a sentence, lowercased, plural ``s`` dropped."""
    terms: collections.Counter[str] = collections.Counter()
    for word in _WORD.findall(sentence.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        terms[word] += 1
    return terms


def _lexrank(documents: list[collections.Counter[str]]) -> np.ndarray:
    """Continuous LexRank scores, computed without a dense similarity matrix.

    With ``X`` the row-normalised TF-IDF matrix, similarity is ``X Xᵀ``
    minus the diagonal; every product below goes through ``X`` and ``Xᵀ``
    as sparse triplets, so each iteration costs O(words).
    """
    count = len(documents)
    if count == 1:
        return np.ones(1)

    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    tf: list[float] = []
    for row, terms in enumerate(documents):
        for term, n in terms.items():
            rows.append(row)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            tf.append(1.0 + math.log(n))
    if not rows:
        return np.zeros(count)
    r = np.asarray(rows)
    c = np.asarray(cols)
    df = np.bincount(c, minlength=len(vocabulary))
    values = np.asarray(tf) * np.log((count + 1) / df)[c]
    norms = np.sqrt(np.bincount(r, weights=values**2, minlength=count))
    values = values / norms[r]
    has_terms = norms > 0

    def similarity_times(v: np.ndarray) -> np.ndarray:
        spread = np.bincount(c, weights=values * v[r], minlength=len(vocabulary))
        back = np.bincount(r, weights=values * spread[c], minlength=count)
        return back - np.where(has_terms, v, 0.0)

    degree = similarity_times(np.ones(count))
    connected = degree > 1e-12
    scores = np.full(count, 1.0 / count)
    for _ in range(100):
        flow = np.where(connected, scores / np.where(connected, degree, 1.0), 0.0)
        dangling = scores[~connected].sum()
        updated = (1 - _DAMPING) / count + _DAMPING * (
            similarity_times(flow) + dangling / count
        )
        if np.abs(updated - scores).sum() < 1e-9:
            return updated
        scores = updated
    return scores


def _unit_vector(terms: collections.Counter[str]) -> dict[str, float]:
    norm = math.sqrt(sum(n * n for n in terms.values())) or 1.0
    return {term: n / norm for term, n in terms.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(term, 0.0) for term, weight in a.items())


def _shorten(sentence: str, limit: int) -> str:
    """``sentence`` cut at a word boundary to fit ``limit`` with an ellipsis."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"
