"""The local extractive summarizer, on prose and on OCR-like text."""

from __future__ import annotations

import re

import pytest

from tasks_api.adapters.llm.extractive import ExtractiveSummarizer, split_sentences

from .texts import long_report

PROSE = """\
The village of Arden sits where two rivers meet, and for most of its history
it lived from the water mill that stood at the confluence. The mill ground
grain for farms across the valley until a flood destroyed its wheel in 1911.
After the flood, the families who had worked at the mill moved to the market
town or found work on the new railway line.

For forty years the ruined mill was used as a barn. In 1958 a local teacher
started a campaign to restore it, and the county agreed to pay for a new wheel
if the village raised half of the cost. The villagers held fairs, sold cakes
and wrote to former residents abroad, and within three years they had the
money. The restored mill reopened in 1963 and has ground flour every summer
since then.

Today the mill is the centre of village life. School classes visit it to learn
how grain becomes flour, and the flour is sold in the shop next to the church.
Many visitors say the sound of the wheel is what they remember best.
"""

OCR_PAGES = """\
ARDEN PARISH NEWSLETTER                                   Spring issue

The parish council met on Tuesday to discuss the repair of the footbridge over
the smaller river. Members agreed that the bridge is no longer safe for bicy-
cles and asked the county engineer for an estimate before the summer.
~~ |_ ;: ." '
                                  - 1 -
\f
ARDEN PARISH NEWSLETTER                                   Spring issue

The engineer replied that a new footbridge would cost less than repairing the
old one. The council will vote on the new footbridge at its next meeting.
=== ** ** ===
                                  - 2 -
\f
ARDEN PARISH NEWSLETTER                                   Spring issue

Volunteers are needed for the spring cleaning of the riverbanks in April.
                                  - 3 -
"""


def normalized(text: str) -> str:
    return " ".join(text.split())


def test_summary_is_made_of_source_sentences_in_source_order() -> None:
    summarizer = ExtractiveSummarizer(max_chars=400, max_sentences=3)
    sentences = split_sentences(PROSE)

    summary = summarizer.summarize(PROSE)

    chosen = [s for s in sentences if s in summary]
    assert len(chosen) >= 2
    assert summary == " ".join(chosen)
    positions = [sentences.index(s) for s in chosen]
    assert positions == sorted(positions)
    assert all(s in normalized(PROSE) for s in chosen)


@pytest.mark.parametrize("max_chars", [80, 200, 600])
def test_summary_stays_within_the_character_budget(max_chars: int) -> None:
    summarizer = ExtractiveSummarizer(max_chars=max_chars, max_sentences=10)

    summary = summarizer.summarize(PROSE)

    assert 0 < len(summary) <= max_chars


def test_summary_holds_no_more_than_max_sentences() -> None:
    summarizer = ExtractiveSummarizer(max_chars=5000, max_sentences=2)
    sentences = split_sentences(PROSE)

    summary = summarizer.summarize(PROSE)

    assert sum(1 for s in sentences if s in summary) == 2


def test_most_central_sentence_is_the_one_chosen() -> None:
    central = (
        "The harbour museum, the lighthouse, the fish market and the old "
        "railway station are the main sights of the town."
    )
    document = " ".join(
        [
            "The harbour museum shows ship models made by local carpenters.",
            "The lighthouse was automated in 1962 and opens on Sundays.",
            central,
            "At the fish market, trawlers unload their catch before dawn.",
            "The old railway station now houses a bakery and a cycle shop.",
            "Visitors often arrive by ferry during the summer holidays.",
        ]
    )
    summarizer = ExtractiveSummarizer(max_sentences=1)

    summary = summarizer.summarize(document)

    assert summary == central


def test_ocr_debris_page_numbers_and_running_headers_are_left_out() -> None:
    summarizer = ExtractiveSummarizer(max_chars=2000, max_sentences=10)

    summary = summarizer.summarize(OCR_PAGES)

    assert "NEWSLETTER" not in summary
    assert "Spring issue" not in summary
    assert not re.search(r"[~|=*]", summary)
    assert "- 2 -" not in summary
    assert "footbridge" in summary


def test_hyphenated_line_breaks_are_joined_and_lines_unwrapped() -> None:
    sentences = split_sentences(OCR_PAGES)

    assert sentences[1] == (
        "Members agreed that the bridge is no longer safe for bicycles and "
        "asked the county engineer for an estimate before the summer."
    )


def test_a_line_break_hyphen_before_a_capital_is_kept() -> None:
    text = "The chapel was built in the Anglo-\nSaxon style by the first monks.\n"

    assert split_sentences(text) == [
        "The chapel was built in the Anglo-Saxon style by the first monks."
    ]


def test_headings_are_not_glued_to_the_next_sentence() -> None:
    text = (
        "Annual report\n"
        "The association grew from forty to sixty members during the year,\n"
        "and the new members came mostly from the neighbouring villages.\n"
    )

    sentences = split_sentences(text)

    assert sentences == [
        "Annual report",
        "The association grew from forty to sixty members during the year, "
        "and the new members came mostly from the neighbouring villages.",
    ]


def test_abbreviations_and_decimals_do_not_end_sentences() -> None:
    text = (
        "Dr. Rossi measured 4.5 litres, e.g. in the morning. "
        "Mr. J. Doe agreed with her."
    )

    sentences = split_sentences(text)

    assert sentences == [
        "Dr. Rossi measured 4.5 litres, e.g. in the morning.",
        "Mr. J. Doe agreed with her.",
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\f\n \t"])
def test_empty_or_blank_text_gives_an_empty_summary(text: str) -> None:
    assert ExtractiveSummarizer().summarize(text) == ""


def test_text_of_nothing_but_debris_gives_an_empty_summary() -> None:
    text = "~~ |_ ;:\n  - 12 -\n ** == **\n 13\n"

    assert ExtractiveSummarizer().summarize(text) == ""


def test_one_sentence_text_is_its_own_summary() -> None:
    assert ExtractiveSummarizer().summarize("  Invoice paid.\n") == "Invoice paid."


def test_a_sentence_longer_than_the_budget_is_cut_at_a_word() -> None:
    text = " ".join(["The committee discussed the budget"] * 30) + "."
    summarizer = ExtractiveSummarizer(max_chars=100)

    summary = summarizer.summarize(text)

    assert len(summary) <= 100
    assert summary.endswith("…")
    assert text.startswith(summary[:-1])


def test_repeated_sentences_are_not_chosen_twice() -> None:
    repeated = "The mill reopened in 1963 after the villagers raised the money."
    text = f"{PROSE}\n\n{repeated}\n\n{repeated}"
    summarizer = ExtractiveSummarizer(max_chars=2000, max_sentences=5)

    summary = summarizer.summarize(text)

    assert summary.count(repeated) <= 1


def test_text_in_another_language_is_summarized_from_its_sentences() -> None:
    text = (
        "Le village est situé au bord de la rivière. La rivière fait tourner "
        "le moulin du village depuis trois siècles. Le moulin du village "
        "produit encore de la farine chaque été. Les enfants aiment le pain."
    )

    summary = ExtractiveSummarizer(max_sentences=1).summarize(text)

    assert summary == "Le moulin du village produit encore de la farine chaque été."


def test_a_300_page_text_is_summarized_within_budget() -> None:
    text = long_report(pages=300)
    summarizer = ExtractiveSummarizer(max_chars=600)

    summary = summarizer.summarize(text)

    assert len(text) > 1_000_000
    assert 0 < len(summary) <= 600
    assert "ARDEN HISTORY" not in summary
    assert "Page" not in summary
    source = set(split_sentences(text))
    assert all(s in source for s in split_sentences(summary))


def test_a_passage_quoted_several_times_is_not_taken_for_a_header() -> None:
    quote = (
        "The mill belongs to everyone who has ever carried a sack of grain\n"
        "across the little bridge on a cold morning before the school bell.\n"
    )
    text = f"{PROSE}\n{quote}\n{PROSE}\n{quote}\n{quote}"

    sentences = split_sentences(text)

    assert " ".join(quote.split()) in sentences


def test_a_budget_too_small_for_a_sentence_is_refused() -> None:
    with pytest.raises(ValueError):
        ExtractiveSummarizer(max_chars=5)
